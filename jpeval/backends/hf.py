"""The transformers backend (CPU or GPU).

Multiple choice: requests that share a context are scored together. The context runs once
(left-padded); the options run on its KV rows, in groups of similar length. Only the positions
whose next token is scored reach the LM head (for a large vocabulary, most of the cost),
gathered across batches, and the head runs over the vocabulary in tiles (see ``_Head``);
options that share a prefix share those positions.
Generation: left-padded, length-sorted batches, greedy, with stop sequences.

On CUDA, attention runs on PyTorch's math kernel (see ``HFBackend._attention``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import transformers
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from jpeval.backends import BackendOptions, cut_at_stop
from jpeval.backends.tokens import Tokenisation, bos_option, pad_id
from jpeval.errors import JpevalError
from jpeval.paths import cache_dir
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, Prompt
from jpeval.spec import ModelSpec

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")
_OPTIONS = {"trust_remote_code", "add_bos_token"}  # model-entry options the backend reads
_LOGITS_BYTES = 64 * 1024**2  # float32 logits held at once while scoring
_HEAD_ROWS = 2048  # hidden states gathered before the LM head runs (a few MB)
_Tiles = Callable[[torch.Tensor, int], Iterator[tuple[int, torch.Tensor]]]  # see _logit_tiles
_HASH_LIMIT = 4 * 1024**3  # hash weights in full below this size, else by size and mtime


def _pick_dtype(name: str, device: str) -> torch.dtype:
    if name != "auto":
        return _DTYPES[name]
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def local_weights_digest(path: Path) -> str:
    """A digest of a local model folder: file contents, or sizes and mtimes if very large.

    Contents are hashed once per version of the files: the digest is remembered in the cache
    folder under the folder's path, with each file's size and mtime, and reused while they match.
    """
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    stats: list[tuple[str, int, int]] = [
        (str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files
    ]
    memo = cache_dir() / "weights-digests.json"
    try:
        known = json.loads(memo.read_text("utf-8"))
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    key = str(path.resolve())
    if isinstance(known.get(key), dict) and known[key].get("files") == [list(x) for x in stats]:
        return str(known[key]["digest"])
    h = hashlib.sha256()
    full = sum(size for _, size, _ in stats) <= _HASH_LIMIT
    for p, (rel, size, mtime) in zip(files, stats, strict=True):
        h.update(rel.encode())
        if full:
            with p.open("rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
        else:
            h.update(f"{size}:{mtime}".encode())
    known[key] = {"files": stats, "digest": h.hexdigest()}
    try:  # best effort: a read-only cache only means hashing again next time
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
        tmp.write_text(json.dumps(known), "utf-8")
        os.replace(tmp, memo)
    except OSError:
        pass
    return h.hexdigest()


def _split_by_length(
    lengths: list[int], max_rows: int, call_cost: int = 16
) -> list[tuple[int, int]]:
    """Cut rows sorted by length (longest first) into consecutive groups of at most
    ``max_rows``, each padded to its first row's length, minimising padded tokens +
    ``call_cost`` tokens per forward pass."""
    n = len(lengths)
    best = [1 << 62] * n + [0]
    cut = [n] * (n + 1)
    for j in range(n - 1, -1, -1):
        for k in range(j + 1, min(n, j + max_rows) + 1):
            cost = call_cost + (k - j) * lengths[j] + best[k]
            if cost < best[j]:
                best[j], cut[j] = cost, k
    groups, j = [], 0
    while j < n:
        groups.append((j, cut[j]))
        j = cut[j]
    return groups


def _cache_rows(cache: Any, rows: torch.Tensor) -> Any:
    """A KV cache of the given batch rows, the original left as it was (its tensors are
    shared, not copied: selecting rows and appending tokens make new ones)."""
    if hasattr(cache, "layers"):
        new = copy.copy(cache)
        new.layers = [copy.copy(layer) for layer in cache.layers]
    else:
        new = copy.deepcopy(cache)
    new.batch_select_indices(rows)
    return new


class _Head:
    """Positions waiting for the LM head. They are gathered across batches and go through it
    ``rows`` at a time, over the vocabulary in tiles of at most ``logits_bytes`` of float32
    logits: each position keeps a running log-sum-exp and best token, and each scored token its
    logit, so no full row of logits is held, and the head's weight (vocabulary x hidden, the
    largest matrix of a small model) is read once per ``rows`` positions, in large products."""

    def __init__(self, tiles: _Tiles, n_requests: int, rows: int, logits_bytes: int) -> None:
        self._tiles, self.rows, self.logits_bytes = tiles, rows, logits_bytes
        self.logprob = [0.0] * n_requests
        self.greedy = [True] * n_requests
        self.n_tokens = [0] * n_requests
        self._states: list[torch.Tensor] = []
        self._entries: list[tuple[int, int, int]] = []  # (position, target token, request)
        self._held = 0

    def add(self, states: torch.Tensor, entries: list[tuple[int, int, int]]) -> None:
        """``states``: (positions, hidden); entries: (position in ``states``, token, request)."""
        self._entries += [(self._held + p, t, i) for p, t, i in entries]
        self._states.append(states)
        self._held += len(states)
        if self._held >= self.rows:
            self.flush(whole_chunks=True)

    @torch.inference_mode()  # also when called last, outside the batches
    def flush(self, whole_chunks: bool = False) -> None:
        """Score the positions held (only whole chunks of ``rows``, keeping the rest, if asked)."""
        n = self._held - self._held % self.rows if whole_chunks else self._held
        if not n:
            return
        states = torch.cat(self._states)
        done = [e for e in self._entries if e[0] < n]
        self._entries = [(p - n, t, i) for p, t, i in self._entries if p >= n]
        self._states, self._held = [states[n:]], self._held - n
        for lo in range(0, n, self.rows):
            part = [e for e in done if lo <= e[0] < lo + self.rows]
            logprob, greedy = self._score(states[lo : min(n, lo + self.rows)], part, lo)
            for (_, _, i), lp, g in zip(part, logprob, greedy, strict=True):
                self.logprob[i] += lp
                self.greedy[i] = self.greedy[i] and g

    def _score(
        self, states: torch.Tensor, part: list[tuple[int, int, int]], lo: int
    ) -> tuple[list[float], list[bool]]:
        """log p(token) at each entry's position, and whether the token is the argmax there."""
        dev, n = states.device, len(states)
        at = torch.tensor([p - lo for p, _, _ in part], device=dev)
        target = torch.tensor([t for _, t, _ in part], device=dev)
        picked = torch.zeros(len(part), device=dev)
        lse = torch.full((n,), -torch.inf, device=dev)
        best = torch.full((n,), -torch.inf, device=dev)
        arg = torch.zeros(n, dtype=torch.long, device=dev)
        # tiles a multiple of 64 wide: matrix products on unaligned widths ran 40% slower
        step = max(64, self.logits_bytes // (4 * n) // 64 * 64)
        for v0, logits in self._tiles(states, step):
            hit = (target >= v0) & (target < v0 + logits.shape[1])
            picked[hit] = logits[at[hit], target[hit] - v0]
            top, idx = logits.max(-1)
            better = top > best  # strictly: the first maximum wins, as with argmax
            best, arg = torch.where(better, top, best), torch.where(better, idx + v0, arg)
            # this tile's log-sum-exp, in place (the tile is not used again); a row all -inf
            # here shifts by a finite number and adds nothing
            shift = top.clamp(min=torch.finfo(top.dtype).min)[:, None]
            lse = torch.logaddexp(lse, logits.sub_(shift).exp_().sum(-1).log_().add_(shift[:, 0]))
            del logits  # before the next tile is made
        return (picked - lse[at]).tolist(), (arg[at] == target).tolist()


class HFBackend:
    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        revision: str | None = None,
        dtype: str = "auto",
        batch_size: int = 16,
        device: str | None = None,
        seed: int = 1234,
        trust_remote_code: bool = False,
        add_bos_token: bool | None = None,
    ) -> None:
        self.model_id = model
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = _pick_dtype(dtype, self.device)
        self.batch_size = max(1, batch_size)
        self.chunk_size: int | None = self.batch_size * 8
        torch.manual_seed(seed)
        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                model, revision=revision, trust_remote_code=trust_remote_code
            )
            self.model = AutoModelForCausalLM.from_pretrained(
                model, revision=revision, dtype=self.dtype, trust_remote_code=trust_remote_code
            ).to(self.device)  # type: ignore[arg-type]
        except OSError as e:
            raise JpevalError(f"cannot load model {model!r} with transformers: {e}") from e
        self.model.eval()
        self._math_attention = self.device.startswith("cuda") and (
            getattr(self.model.config, "_attn_implementation", None) == "sdpa"
        )
        self._split: bool | None = None  # see _split_head
        head = self.model.get_output_embeddings()
        self._vocab = int(  # logits per position
            getattr(head, "out_features", 0)
            or getattr(self.model.config, "vocab_size", 0)
            or 32_000
        )
        self.head_rows: int | None = None  # positions per LM head run; None: see loglikelihood
        self.logits_bytes = _LOGITS_BYTES
        self._decoder: Any = None
        self._head: Any = None
        tok = self.tokenizer
        self.pad_id = pad_id(tok)
        self.max_length = min(
            getattr(self.model.config, "max_position_embeddings", None) or 1 << 30,
            tok.model_max_length if tok.model_max_length < 1 << 30 else 1 << 30,
        )
        self.tok = Tokenisation(
            tok, self.max_length, model, self.pad_id, bos_option(add_bos_token, model)
        )
        self.has_chat_template = self.tok.has_chat_template
        local = Path(model)
        self._revision = (
            "sha256:" + local_weights_digest(local)
            if local.is_dir()
            else revision or getattr(self.model.config, "_commit_hash", None) or "unknown"
        )

    @classmethod
    def from_spec(cls, spec: ModelSpec, opts: BackendOptions) -> HFBackend:
        model = str(opts.model_path) if opts.model_path else spec.model
        if unknown := sorted(set(spec.options) - _OPTIONS):
            raise JpevalError(
                f"model {spec.name!r}: unknown hf option(s) {unknown}; expected some of "
                f"{sorted(_OPTIONS)}"
            )
        return cls(
            model,
            revision=spec.revision,
            dtype=spec.dtype,
            batch_size=opts.batch_size,
            device=opts.device,
            seed=opts.seed,
            trust_remote_code=bool(spec.options.get("trust_remote_code", False)),
            add_bos_token=spec.options.get("add_bos_token"),
        )

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_id,
            "revision": self._revision,
            "dtype": str(self.dtype).removeprefix("torch."),
            "bos": self.tok.bos_policy,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        } | ({"attention": "sdpa-math"} if self._math_attention else {})

    # ---- tokenisation (shared with the vllm backend) ----------------------------------------

    def prompt_text(self, prompt: Prompt) -> tuple[str, bool]:
        return self.tok.prompt_text(prompt)

    def encode_pair(self, req: Loglikelihood) -> tuple[list[int], list[int]]:
        return self.tok.encode_pair(req)

    def _left_pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids left-padded to one width, and the attention mask (1 on real tokens)."""
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, s in enumerate(seqs):
            ids[b, width - len(s) :] = torch.tensor(s, dtype=torch.long)
            mask[b, width - len(s) :] = 1
        return ids, mask

    def _attention(self) -> contextlib.AbstractContextManager[Any]:
        """Where the forward passes run. On CUDA, scaled-dot-product attention is held to the
        math kernel: with the padding masks used here, the memory-efficient kernel returned
        log-likelihoods off by up to 2 nats on an H200 (torch 2.11, Gemma-3's grouped-query
        attention; cf. pytorch/pytorch#191937), and the math kernel matched the CPU to 1e-5 in
        less time (bench/RESULTS-gpu.md)."""
        return sdpa_kernel(SDPBackend.MATH) if self._math_attention else contextlib.nullcontext()

    # ---- log-likelihood --------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        for i, req in enumerate(requests):
            ctx, cont = self.encode_pair(req)
            groups.setdefault(tuple(ctx), []).append((i, cont))
        # hidden states are small and gather well; full logits rows (no split) are not
        rows = self.head_rows or (
            _HEAD_ROWS if self._split_head() else max(1, self.logits_bytes // (4 * self._vocab))
        )
        head = _Head(self._logit_tiles, len(requests), rows, self.logits_bytes)
        with self._attention():
            for batch in self._batches(groups):
                self._run_batch(batch, head)
        head.flush()
        return [
            LoglikelihoodResult(head.logprob[i], head.greedy[i], head.n_tokens[i])
            for i in range(len(requests))
        ]

    def _batches(
        self, groups: dict[tuple[int, ...], list[tuple[int, list[int]]]]
    ) -> Iterator[list[tuple[tuple[int, ...], list[tuple[int, list[int]]]]]]:
        """Longest first; a batch holds at most ``batch_size`` contexts (the rows of its context
        pass), each with at most ``batch_size`` of its continuations (those run in passes of at
        most ``batch_size`` rows, grouped by length across the batch's contexts)."""
        pieces = [
            (ctx, conts[j : j + self.batch_size])
            for ctx, conts in groups.items()
            for j in range(0, len(conts), self.batch_size)
        ]
        pieces.sort(key=lambda p: -(len(p[0]) + max(len(c) for _, c in p[1])))
        for lo in range(0, len(pieces), self.batch_size):
            yield pieces[lo : lo + self.batch_size]

    def _split_head(self) -> bool:
        """Whether the decoder's hidden states through the output embeddings (and the final
        soft-capping, where the model has one) reproduce the model's logits; checked once on a
        short input. If not, the full model runs and its logits are used directly."""
        if self._split is None:
            self._split = False
            decoder, head = self.model.get_decoder(), self.model.get_output_embeddings()
            if decoder is not self.model and isinstance(head, torch.nn.Linear):
                self._decoder, self._head = decoder, head
                ids = torch.tensor(
                    [self.tok.encode("日本語の文です。", True)[:8]], device=self.device
                )
                with torch.inference_mode(), self._attention():
                    full = self.model(input_ids=ids).logits.float()
                    mine = self._head_logits(self._decoder(input_ids=ids).last_hidden_state)
                self._split = bool((full - mine).abs().max() <= 1e-4 * full.abs().max())
        return self._split

    def _head_logits(
        self, states: torch.Tensor, lo: int = 0, hi: int | None = None
    ) -> torch.Tensor:
        """Float logits of vocabulary entries lo..hi from hidden states (soft-capped where the
        model does that last)."""
        bias = self._head.bias
        w = self._head.weight[lo:hi]
        logits = torch.nn.functional.linear(states, w, None if bias is None else bias[lo:hi])
        logits = logits.float()
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        return torch.tanh(logits / cap) * cap if cap else logits

    def _logit_tiles(self, states: torch.Tensor, step: int) -> Iterator[tuple[int, torch.Tensor]]:
        """(first entry, float logits of ``step`` vocabulary entries) for what ``_states``
        returned; each tile a new tensor, free to change in place."""
        if not self._split:  # states are the model's logits
            for v0 in range(0, states.shape[-1], step):
                yield v0, states[:, v0 : v0 + step].to(torch.float32, copy=True)
            return
        for v0 in range(0, self._vocab, step):
            yield v0, self._head_logits(states, v0, v0 + step)

    def _states(self, last_only: bool = False, **kw: Any) -> tuple[torch.Tensor, Any]:
        """Per-position hidden states (or logits, see ``_split_head``) and the KV cache."""
        if self._split_head():
            out = self._decoder(**kw)
            return out.last_hidden_state, out.past_key_values
        out = self.model(**kw, logits_to_keep=1 if last_only else 0)
        return out.logits, out.past_key_values

    @torch.inference_mode()
    def _run_batch(
        self, batch: list[tuple[tuple[int, ...], list[tuple[int, list[int]]]]], head: _Head
    ) -> None:
        dev = self.device
        ctx_lens = [len(ctx) for ctx, _ in batch]
        ids, mask = self._left_pad([list(ctx) for ctx, _ in batch])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        states, cache = self._states(
            input_ids=ids.to(dev),
            attention_mask=mask.to(dev),
            position_ids=pos.to(dev),
            use_cache=True,
            last_only=True,
        )
        rows = [(b, i, cont) for b, (_, conts) in enumerate(batch) for i, cont in conts]
        # each context's last position predicts the first token of every option
        head.add(states[:, -1], [(b, cont[0], i) for b, i, cont in rows if cont])
        for _, i, cont in rows:
            head.n_tokens[i] = len(cont)
        # tokens 0..n-2 of each option run on the repeated context cache; each predicts the next.
        # Options differ in length: rows of similar length run together, to pad little.
        rows = sorted((r for r in rows if len(r[2]) > 1), key=lambda r: -len(r[2]))
        groups = _split_by_length([len(cont) - 1 for _, _, cont in rows], self.batch_size)
        seen: dict[tuple[int, tuple[int, ...]], int] = {}  # (context, option prefix) -> state
        kept, entries = [], []
        for lo, hi in groups:
            part = rows[lo:hi]
            owner = torch.tensor([b for b, _, _ in part])
            kv = _cache_rows(cache, owner.to(dev))
            tail = len(part[0][2]) - 1
            cids = torch.full((len(part), tail), self.pad_id, dtype=torch.long)
            cmask = torch.zeros_like(cids)
            for r, (_, _, cont) in enumerate(part):
                cids[r, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
                cmask[r, : len(cont) - 1] = 1
            cpos = torch.tensor(ctx_lens)[owner][:, None] + torch.arange(tail)[None]
            states, _ = self._states(
                input_ids=cids.to(dev),
                attention_mask=torch.cat([mask[owner], cmask], 1).to(dev),
                position_ids=cpos.to(dev),
                past_key_values=kv,
                use_cache=False,
            )
            # options of one context that share a prefix share its states: keep one of each
            keep = torch.zeros(cids.shape, dtype=torch.bool)
            for r, (b, i, cont) in enumerate(part):
                for j, t in enumerate(cont[1:]):
                    key = (b, tuple(cont[: j + 1]))
                    if key not in seen:
                        seen[key] = len(seen)
                        keep[r, j] = True
                    entries.append((seen[key], t, i))
            kept.append(states[keep.to(dev)])  # row-major, the order ``seen`` numbers them in
        if kept:
            head.add(torch.cat(kept), entries)

    # ---- generation ------------------------------------------------------------------------

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        encoded = [self.tok.encode_prompt(r.prompt, r.max_tokens) for r in requests]
        order = sorted(
            range(len(requests)),
            key=lambda i: (requests[i].max_tokens, requests[i].stop, -len(encoded[i])),
        )
        out: list[str] = [""] * len(requests)
        batch: list[int] = []
        for i in [*order, None]:
            same = (
                i is not None
                and batch
                and (requests[i].max_tokens, requests[i].stop)
                == (
                    requests[batch[0]].max_tokens,
                    requests[batch[0]].stop,
                )
            )
            if batch and (i is None or not same or len(batch) == self.batch_size):
                for j, text in zip(
                    batch,
                    self._generate_batch([encoded[j] for j in batch], requests[batch[0]]),
                    strict=True,
                ):
                    out[j] = text
                batch = []
            if i is not None:
                batch.append(i)
        return out

    @torch.inference_mode()
    def _generate_batch(self, prompts: list[list[int]], req: Generate) -> list[str]:
        ids, mask = self._left_pad(prompts)
        width = ids.shape[1]
        config = GenerationConfig(  # type: ignore[no-untyped-call]
            max_new_tokens=req.max_tokens,
            do_sample=False,
            pad_token_id=self.pad_id,
            eos_token_id=self.tokenizer.eos_token_id,
            stop_strings=list(req.stop) or None,
        )
        with self._attention():
            gen = self.model.generate(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                generation_config=config,
                tokenizer=self.tokenizer,
            )
        texts = self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
        return [cut_at_stop(t, req.stop) for t in texts]
