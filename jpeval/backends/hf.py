"""The transformers backend (CPU or GPU).

Multiple choice: requests that share a context are scored together. The context
runs once (left-padded, only its last position through the LM head); its KV cache
is repeated for each option, and the options run on top of it. Only continuation
positions ever reach the LM head, which dominates cost for large vocabularies.
Generation: left-padded, length-sorted batches, greedy, with stop sequences.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from jpeval.backends import BackendOptions, cut_at_stop
from jpeval.backends.tokens import Tokenisation
from jpeval.errors import JpevalError
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, Prompt
from jpeval.spec import ModelSpec

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")
_HASH_LIMIT = 4 * 1024**3  # hash weights in full below this size, else by size and mtime


def _pick_dtype(name: str, device: str) -> torch.dtype:
    if name != "auto":
        return _DTYPES[name]
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def local_weights_digest(path: Path) -> str:
    """A digest of a local model folder: file contents, or sizes and mtimes if very large."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    h = hashlib.sha256()
    full = sum(p.stat().st_size for p in files) <= _HASH_LIMIT
    for p in files:
        h.update(str(p.relative_to(path)).encode())
        if full:
            with p.open("rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
        else:
            st = p.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


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
        tok = self.tokenizer
        self.pad_id = next(i for i in (tok.pad_token_id, tok.eos_token_id, 0) if i is not None)
        self.max_length = min(
            getattr(self.model.config, "max_position_embeddings", None) or 1 << 30,
            tok.model_max_length if tok.model_max_length < 1 << 30 else 1 << 30,
        )
        self.tok = Tokenisation(tok, self.max_length, model, self.pad_id)
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
        return cls(
            model,
            revision=spec.revision,
            dtype=spec.dtype,
            batch_size=opts.batch_size,
            device=opts.device,
            seed=opts.seed,
            trust_remote_code=bool(spec.options.get("trust_remote_code", False)),
        )

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_id,
            "revision": self._revision,
            "dtype": str(self.dtype).removeprefix("torch."),
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }

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

    # ---- log-likelihood --------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        for i, req in enumerate(requests):
            ctx, cont = self.encode_pair(req)
            groups.setdefault(tuple(ctx), []).append((i, cont))
        out: list[LoglikelihoodResult | None] = [None] * len(requests)
        for batch in self._batches(groups):
            for i, res in self._score_batch(batch):
                out[i] = res
        assert all(r is not None for r in out)
        return out  # type: ignore[return-value]

    def _batches(
        self, groups: dict[tuple[int, ...], list[tuple[int, list[int]]]]
    ) -> Iterator[list[tuple[tuple[int, ...], list[tuple[int, list[int]]]]]]:
        """Longest first; a batch holds whole contexts and at most ``batch_size`` continuations."""
        pieces = [
            (ctx, conts[j : j + self.batch_size])
            for ctx, conts in groups.items()
            for j in range(0, len(conts), self.batch_size)
        ]
        pieces.sort(key=lambda p: -(len(p[0]) + max(len(c) for _, c in p[1])))
        batch: list[tuple[tuple[int, ...], list[tuple[int, list[int]]]]] = []
        rows = 0
        for piece in pieces:
            if batch and rows + len(piece[1]) > self.batch_size:
                yield batch
                batch, rows = [], 0
            batch.append(piece)
            rows += len(piece[1])
        if batch:
            yield batch

    @torch.inference_mode()
    def _score_batch(
        self, batch: list[tuple[tuple[int, ...], list[tuple[int, list[int]]]]]
    ) -> list[tuple[int, LoglikelihoodResult]]:
        dev = self.device
        ctx_lens = [len(ctx) for ctx, _ in batch]
        ids, mask = self._left_pad([list(ctx) for ctx, _ in batch])
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        first = self.model(
            input_ids=ids.to(dev),
            attention_mask=mask.to(dev),
            position_ids=pos.to(dev),
            use_cache=True,
            logits_to_keep=1,
        )
        first_lp = first.logits[:, -1].float().log_softmax(-1)

        rows = [(b, i, cont) for b, (_, conts) in enumerate(batch) for i, cont in conts]
        tail = max(len(cont) for _, _, cont in rows) - 1
        rest_lp = None
        if tail > 0:  # run tokens 0..n-2 of each option on the repeated context cache
            owner = torch.tensor([b for b, _, _ in rows])
            cache = first.past_key_values
            cache.batch_select_indices(owner.to(dev))
            cids = torch.full((len(rows), tail), self.pad_id, dtype=torch.long)
            cmask = torch.zeros_like(cids)
            for r, (_, _, cont) in enumerate(rows):
                cids[r, : len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
                cmask[r, : len(cont) - 1] = 1
            cpos = torch.tensor(ctx_lens)[owner][:, None] + torch.arange(tail)[None]
            second = self.model(
                input_ids=cids.to(dev),
                attention_mask=torch.cat([mask[owner], cmask], 1).to(dev),
                position_ids=cpos.to(dev),
                past_key_values=cache,
                use_cache=False,
            )
            rest_lp = second.logits.float().log_softmax(-1)

        out = []
        for r, (b, i, cont) in enumerate(rows):
            if not cont:
                out.append((i, LoglikelihoodResult(0.0, True, 0)))
                continue
            steps = [first_lp[b]] + (
                [rest_lp[r, j] for j in range(len(cont) - 1)] if rest_lp is not None else []
            )
            dist = torch.stack(steps[: len(cont)])
            target = torch.tensor(cont, device=dist.device)
            logprob = dist.gather(1, target[:, None]).sum().item()
            greedy = bool((dist.argmax(-1) == target).all().item())
            out.append((i, LoglikelihoodResult(float(logprob), greedy, len(cont))))
        return out

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
        gen = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            generation_config=config,
            tokenizer=self.tokenizer,
        )
        texts = self.tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True)
        return [cut_at_stop(t, req.stop) for t in texts]
