"""Prompt rendering and tokenisation shared by the hf and vllm backends, so both feed the model
the same token ids (the same BOS policy, chat template and context/continuation split)."""

from __future__ import annotations

from typing import Any

from jpeval.errors import JpevalError
from jpeval.requests import Loglikelihood, Prompt


def bos_option(value: Any, model: str) -> bool | None:
    """The ``add_bos_token`` model option: true, false, or absent (the tokenizer decides)."""
    if value is None or isinstance(value, bool):
        return value
    raise JpevalError(f"model {model!r}: option add_bos_token must be true or false, got {value!r}")


def pad_id(tokenizer: Any) -> int:
    """The id that pads batches: the tokenizer's pad token, else its EOS, else 0."""
    return next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)


class Tokenisation:
    """``tokenizer`` is a transformers tokenizer; ``max_length`` the model's context length, of
    which ``scored_room`` tokens are left free after a scored context + continuation (vLLM
    generates one token past the prompt whose log-probabilities it returns).

    BOS policy for plain-text prompts: ``add_bos`` True puts the BOS token first (once), False
    takes it away, None leaves it to the tokenizer. Chat prompts keep what the template renders.
    Some tokenizers (e.g. Gemma's when converted from GGUF) add none although the model was
    trained with one, so the model entry states it (option ``add_bos_token``).
    """

    def __init__(
        self,
        tokenizer: Any,
        max_length: int,
        model_id: str,
        pad_id: int,
        add_bos: bool | None = None,
        scored_room: int = 0,
    ) -> None:
        self.tokenizer, self.max_length, self.model_id, self.pad_id = (
            tokenizer,
            max_length,
            model_id,
            pad_id,
        )
        self.bos_id: int | None = tokenizer.bos_token_id
        if add_bos and self.bos_id is None:
            raise JpevalError(f"model {model_id!r}: add_bos_token is true but it has no BOS token")
        self.add_bos, self.scored_room = add_bos, scored_room
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self._ctx_ids: dict[tuple[str, bool], list[int]] = {}

    @property
    def bos_policy(self) -> str:
        """What plain prompts start with, for provenance: "bos" or "none" (as measured)."""
        return "bos" if self.encode("a", True)[:1] == [self.bos_id] else "none"

    def prompt_text(self, prompt: Prompt) -> tuple[str, bool]:
        """The prompt as text, and whether the tokenizer should add special tokens (BOS): plain
        prompts get the tokenizer's own special tokens; a rendered chat template has them."""
        if isinstance(prompt, str):
            return prompt, True
        if not self.has_chat_template:
            raise JpevalError(
                f"model {self.model_id!r} has no chat template; use a task with chat: never"
            )
        msgs = [{"role": m.role, "content": m.content} for m in prompt]
        text = self.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        return str(text), False

    def encode(self, text: str, special: bool) -> list[int]:
        ids = list(self.tokenizer(text, add_special_tokens=special).input_ids)
        if special and self.add_bos is not None:
            has = ids[:1] == [self.bos_id]
            if self.add_bos and not has:
                ids.insert(0, self.bos_id)  # type: ignore[arg-type]
            elif not self.add_bos and has:
                del ids[0]
        return ids

    def encode_prompt(self, prompt: Prompt, max_new_tokens: int) -> list[int]:
        """A generation prompt's ids, cut from the left to leave room for the new tokens."""
        keep = max(1, self.max_length - max_new_tokens)
        return self.encode(*self.prompt_text(prompt))[-keep:]

    def encode_pair(self, req: Loglikelihood) -> tuple[list[int], list[int]]:
        """Context and continuation token ids, tokenised as the full string would be."""
        ctx_text, special = self.prompt_text(req.context)
        if (ctx_text, special) not in self._ctx_ids:  # options share their context: encode it once
            self._ctx_ids = {(ctx_text, special): self.encode(ctx_text, special)}
        ctx = list(self._ctx_ids[ctx_text, special])
        if not req.continuation:
            return ctx, []
        whole = self.encode(ctx_text + req.continuation, special)
        if whole[: len(ctx)] == ctx and len(whole) > len(ctx):
            cont = whole[len(ctx) :]
        else:  # a token merged across the boundary: tokenise the continuation on its own
            cont = self.encode(req.continuation, False)
        if not ctx:
            bos = self.tokenizer.bos_token_id
            ctx = [bos if bos is not None else self.pad_id]
        keep = max(1, self.max_length - self.scored_room - len(cont))
        return ctx[-keep:], cont
