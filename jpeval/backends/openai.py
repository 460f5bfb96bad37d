"""Any OpenAI-compatible API (closed models, vLLM's or transformers' server, …).

Generation goes to ``/chat/completions`` (``endpoint: chat``, the default: prompts are chat
messages and multiple choice is answered by generation) or ``/completions`` (plain text).
Log-likelihoods need an endpoint that returns log-probs for the prompt: ``/completions`` with
``echo`` (vLLM's server does; set ``echo_logprobs: true``, and ``tokenizer: HF_ID_OR_PATH`` to
send token ids split exactly as the hf backend splits them); other endpoints raise a clear error.

Requests run on a bounded thread pool; the ``openai`` client retries 408/409/429/5xx and
timeouts with exponential backoff (honouring Retry-After). The API key comes from the
environment variable the model entry names (``api_key_env``; default ``OPENAI_API_KEY``) and is
never stored: not in the fingerprint, the results, the samples, nor in error messages.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import openai

from jpeval.backends import BackendOptions, cut_at_stop
from jpeval.backends.tokens import Tokenisation, bos_option
from jpeval.errors import JpevalError
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, Prompt
from jpeval.spec import ModelSpec

T = TypeVar("T")
R = TypeVar("R")
MAX_API_STOPS = 4  # OpenAI accepts at most four stop sequences; the rest are cut locally


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key_env: str | None = None,
        endpoint: str = "chat",
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 8,
        echo_logprobs: bool = False,
        tokenizer: str | None = None,
        add_bos_token: bool | None = None,
        seed: int = 1234,
    ) -> None:
        if add_bos_token is not None and not tokenizer:
            raise JpevalError(
                f"model {model!r}: add_bos_token needs the tokenizer option (without it the "
                "server tokenises and adds what it adds)"
            )
        if endpoint not in ("chat", "completions"):
            raise JpevalError(
                f"openai backend: endpoint must be chat or completions, not {endpoint!r}"
            )
        env = api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(env)
        if api_key_env and not key:
            raise JpevalError(
                f"openai backend: the environment variable {api_key_env} (api_key_env of the "
                "model entry) is not set; export the API key there"
            )
        self._key = key or "EMPTY"  # local servers need none
        self.model, self.base_url, self.endpoint = model, base_url, endpoint
        self.echo_logprobs, self.seed = echo_logprobs, seed
        self.concurrency = max(1, concurrency)
        self.has_chat_template = endpoint == "chat"
        self.chunk_size: int | None = self.concurrency * 4  # cache progress often
        self._client = openai.OpenAI(
            base_url=base_url, api_key=self._key, timeout=timeout, max_retries=max_retries
        )
        self._lock = threading.Lock()
        self._ctx_tokens: dict[str, list[str]] = {}
        self.tok: Tokenisation | None = None
        if tokenizer:
            from transformers import AutoTokenizer

            tk = AutoTokenizer.from_pretrained(tokenizer)
            pad = next(i for i in (tk.pad_token_id, tk.eos_token_id, 0) if i is not None)
            self.tok = Tokenisation(tk, 1 << 30, model, pad, bos_option(add_bos_token, model))
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0}

    @classmethod
    def from_spec(cls, spec: ModelSpec, opts: BackendOptions) -> OpenAIBackend:
        o = dict(spec.options)
        base_url = o.pop("base_url", None)
        if not base_url:
            raise JpevalError(f"model {spec.name!r}: the openai backend needs options.base_url")
        allowed = {
            "endpoint",
            "concurrency",
            "timeout",
            "max_retries",
            "echo_logprobs",
            "tokenizer",
            "add_bos_token",
        }
        if unknown := sorted(set(o) - allowed):
            raise JpevalError(
                f"model {spec.name!r}: unknown openai option(s) {unknown}; "
                f"expected some of {sorted(allowed)}"
            )
        return cls(spec.model, str(base_url), api_key_env=spec.api_key_env, seed=opts.seed, **o)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "endpoint": self.endpoint,
            "echo_logprobs": self.echo_logprobs,
            "tokenizer": self.tok is not None,
            "bos": self.tok.bos_policy if self.tok else None,
        }

    # ---- plumbing --------------------------------------------------------------------------

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(fn, items))

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        """One API call; errors are re-raised without the key (or anything else secret)."""
        try:
            response = fn()
        except openai.APIError as e:
            status = getattr(e, "status_code", None)
            detail = str(e).replace(self._key, "***") if self._key != "EMPTY" else str(e)
            where = f"{self.base_url} ({self.model}, {what})"
            raise JpevalError(
                f"API request failed at {where}"
                + (f": HTTP {status}" if status else "")
                + f": {type(e).__name__}: {detail[:500]}"
            ) from None
        if usage := getattr(response, "usage", None):
            with self._lock:
                self.usage["prompt_tokens"] += usage.prompt_tokens or 0
                self.usage["completion_tokens"] += usage.completion_tokens or 0
                self.usage["requests"] += 1
        return response

    # ---- generation ------------------------------------------------------------------------

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        return self._map(self._generate_one, requests)

    def _generate_one(self, r: Generate) -> str:
        args: dict[str, Any] = {
            "model": self.model,
            "max_tokens": r.max_tokens,
            "temperature": r.temperature,
            "seed": self.seed,
        }
        if r.stop:
            args["stop"] = list(r.stop[:MAX_API_STOPS])
        if self.endpoint == "chat":
            messages: Any = _messages(r.prompt)
            resp = self._call(
                "chat", lambda: self._client.chat.completions.create(messages=messages, **args)
            )
            text = resp.choices[0].message.content or ""
        else:
            prompt = r.prompt
            if not isinstance(prompt, str):
                raise JpevalError("openai backend: chat prompts need endpoint: chat")
            resp = self._call(
                "completions", lambda: self._client.completions.create(prompt=prompt, **args)
            )
            text = resp.choices[0].text or ""
        return cut_at_stop(text, r.stop)

    # ---- log-likelihood --------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        if not (self.endpoint == "completions" and self.echo_logprobs):
            raise JpevalError(
                f"model {self.model!r} at {self.base_url}: log-likelihoods need a completions "
                "endpoint that returns prompt log-probs (options endpoint: completions, "
                "echo_logprobs: true, e.g. vLLM's server); with a chat endpoint, multiple-choice "
                "tasks are answered by generation (task chat: auto)"
            )
        self._ctx_tokens = {}  # the runner never splits a shared context across calls
        return self._map(self._loglikelihood_one, requests)

    def _echo(self, prompt: str | list[int]) -> Any:
        """The prompt's tokens and their log-probs (``echo``, no new tokens)."""
        resp = self._call(
            "completions echo",
            lambda: self._client.completions.create(
                model=self.model, prompt=prompt, max_tokens=0, echo=True, logprobs=1, temperature=0
            ),
        )
        choice = resp.choices[0]
        if choice.logprobs is None or choice.logprobs.token_logprobs is None:
            raise JpevalError(
                f"{self.base_url}: the completions endpoint returned no prompt log-probs"
            )
        return choice

    def _split(self, r: Loglikelihood) -> tuple[Any, int]:
        """The echoed context + continuation, and the index of its first continuation token.

        With a ``tokenizer``, token ids are sent as the hf backend would feed them. Without, the
        server tokenises the text: the continuation starts where the tokens stop matching the
        context's own (a token that merges across the boundary counts as continuation)."""
        context = r.context
        if not isinstance(context, str):
            raise JpevalError("openai backend: log-likelihoods need plain-text contexts")
        if self.tok is not None:
            ctx_ids, cont_ids = self.tok.encode_pair(r)
            return self._echo(ctx_ids + cont_ids), len(ctx_ids)
        full = self._echo(context + r.continuation)
        tokens = list(full.logprobs.tokens or [])
        if not context:  # every token after the unscored first (BOS) ones
            first = next(
                (i for i, x in enumerate(full.logprobs.token_logprobs) if x is not None), 0
            )
            return full, first
        with self._lock:
            ctx = self._ctx_tokens.get(context)
        if ctx is None:  # options share their context: echo it once
            ctx = list(self._echo(context).logprobs.tokens or [])
            with self._lock:
                self._ctx_tokens[context] = ctx
        n = next((i for i, (a, b) in enumerate(zip(ctx, tokens, strict=False)) if a != b), len(ctx))
        return full, min(n, len(tokens))

    def _loglikelihood_one(self, r: Loglikelihood) -> LoglikelihoodResult:
        choice, n_ctx = self._split(r)
        lp = choice.logprobs
        # vLLM also returns prompt_logprobs (token id -> logprob, rank): the alternatives keyed
        # by id, where top_logprobs keys them by text and may merge two
        tops = getattr(choice, "prompt_logprobs", None) or lp.top_logprobs or []
        total, greedy = 0.0, True
        cont = range(n_ctx, len(lp.token_logprobs))
        for i in cont:
            logprob = lp.token_logprobs[i]
            total += logprob
            if i < len(tops) and tops[i]:
                values = [v["logprob"] if isinstance(v, dict) else v for v in tops[i].values()]
                greedy = greedy and logprob >= max(values) - 1e-6
        return LoglikelihoodResult(total, greedy, len(cont))


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m.role, "content": m.content} for m in prompt]
