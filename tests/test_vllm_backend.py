"""The vllm backend on the real engine (the vllm-cpu build here; `make test-vllm` creates its
environment). Skipped where vLLM is not installed (the main test environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("vllm")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")

from jpeval.requests import Generate, Loglikelihood, Message
from tests.tiny_model import LINES

ROOT = Path(__file__).resolve().parents[1]
ENGINE = {"enforce_eager": True, "max_model_len": 512}

LL = [
    Loglikelihood("敬語を正しく", "使うことは大切です。"),
    Loglikelihood("敬語を正しく", "書くことは大切です。"),
    Loglikelihood("令和元年は西暦", "2019年です。"),
    Loglikelihood("令和元年は西暦", "1989年です。"),
    Loglikelihood("", "東京は日本の首都です。"),
    Loglikelihood((Message("user", "質問：富士山は"),), "日本一高い山です。"),
]
GEN = [
    Generate("敬語を", max_tokens=16),
    Generate("令和元年は", max_tokens=16, stop=("。",)),
    Generate("節分には", max_tokens=24, stop=("、", "。")),
    Generate((Message("user", "お客様が"),), max_tokens=12),
]


@pytest.fixture(scope="module")
def backends(tiny_chat_model: Path) -> Iterator[tuple[object, object]]:
    from jpeval.backends.hf import HFBackend
    from jpeval.backends.vllm import VLLMBackend

    hf = HFBackend(str(tiny_chat_model), dtype="float32")
    vl = VLLMBackend(str(tiny_chat_model), dtype="float32", **ENGINE)
    yield hf, vl
    vl.close()


def test_same_loglikelihoods_as_hf(backends: tuple) -> None:
    hf, vl = backends
    want, got = hf.loglikelihood(LL), vl.loglikelihood(LL)
    for w, g in zip(want, got, strict=True):
        assert abs(w.logprob - g.logprob) < 1e-3, (w, g)
        assert (w.is_greedy, w.n_tokens) == (g.is_greedy, g.n_tokens)


def test_same_generations_as_hf(backends: tuple) -> None:
    hf, vl = backends
    assert vl.generate(GEN) == hf.generate(GEN)


def test_prompts_longer_than_the_engine_are_cut_to_fit(backends: tuple) -> None:
    """A context longer than max_model_len is cut from the left, leaving room for the token the
    engine generates with prompt_logprobs; the score is that of the ids kept."""
    import torch

    hf, vl = backends
    long = "。".join(LINES * 20)
    req = Loglikelihood(long, "こちらでお待ちください。")
    ctx, cont = vl.tok.encode_pair(req)
    assert len(ctx) + len(cont) == ENGINE["max_model_len"] - 1
    (got,) = vl.loglikelihood([req])
    with torch.no_grad():
        lp = hf.model(torch.tensor([ctx + cont])).logits.float().log_softmax(-1)[0]
    want = sum(lp[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))
    assert got.n_tokens == len(cont) and abs(got.logprob - want) < 1e-3
    (text,) = vl.generate([Generate(long, max_tokens=8)])
    assert isinstance(text, str)


def _run(out: Path, model: Path, args: str) -> dict:
    cmd = [
        sys.executable, "-m", "jpeval.cli", "run", "--model", f"vllm:{model}",
        "--tasks", "keigo.form_choice,admin.wareki_year", "--limit", "8", "--output", str(out),
        "--model-args", f"dtype=float32,enforce_eager=true,max_model_len=512,{args}",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    [path] = out.rglob("*.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_ray_data_parallel_equals_one_engine(tiny_chat_model: Path, tmp_path: Path) -> None:
    one = _run(tmp_path / "one", tiny_chat_model, "data_parallel=1")
    two = _run(tmp_path / "two", tiny_chat_model, "data_parallel=2")
    assert one["requests"]["computed"] == two["requests"]["computed"] > 0
    for name, task in one["tasks"].items():
        assert two["tasks"][name]["item_scores"] == task["item_scores"]
    samples = [sorted((tmp_path / d).rglob("admin.wareki_year.jsonl")) for d in ("one", "two")]
    texts = [[json.loads(x)["generation"] for x in p[0].read_text().splitlines()] for p in samples]
    assert texts[0] == texts[1]


@pytest.fixture(scope="module")
def vllm_server(tiny_chat_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """vLLM's OpenAI-compatible server with the tiny model; yields the base URL."""
    from tests.test_openai_backend import _free_port, _wait

    port = _free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "serve.log"
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_chat_model),
        "--dtype", "float32", "--enforce-eager", "--max-model-len", "512",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/health", 240)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(30)


def test_openai_backend_scores_options_with_vllm_server_logprobs(
    vllm_server: str, backends: tuple
) -> None:
    """Through vLLM's server (completions with echo), the openai backend gives the hf backend's
    log-likelihoods, and the same generations."""
    from jpeval.backends.openai import OpenAIBackend

    hf, _ = backends
    model = hf.model_id
    plain = [r for r in LL if isinstance(r.context, str)]
    want = hf.loglikelihood(plain)
    # with the model's tokenizer, token ids are sent split exactly as hf splits them
    exact = OpenAIBackend(
        model, vllm_server, endpoint="completions", echo_logprobs=True, tokenizer=model
    )
    for w, g in zip(want, exact.loglikelihood(plain), strict=True):
        assert abs(w.logprob - g.logprob) < 1e-3, (w, g)
        assert (w.is_greedy, w.n_tokens) == (g.is_greedy, g.n_tokens)
    # without, the server tokenises the text: the same wherever no token spans the boundary
    api = OpenAIBackend(model, vllm_server, endpoint="completions", echo_logprobs=True)
    got = api.loglikelihood(plain)
    spans = [hf.tok.encode_pair(r) for r in plain]
    whole = [hf.tok.encode(r.context + r.continuation, True) for r in plain]
    for w, g, (ctx, cont), ids in zip(want, got, spans, whole, strict=True):
        if ctx + cont == ids:
            assert abs(w.logprob - g.logprob) < 1e-3, (w, g)
    # the same generations, but for the tail: the server holds back the bytes of a character
    # cut off by max_tokens, where decoding the token ids gives U+FFFD
    gen = [r for r in GEN if isinstance(r.prompt, str)]
    tails = [t.rstrip("\ufffd") for t in hf.generate(gen)]
    assert [t.rstrip("\ufffd") for t in api.generate(gen)] == tails
