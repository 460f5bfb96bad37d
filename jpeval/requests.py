"""The two request kinds every backend serves, and their results (frozen, typed)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Message:
    role: str
    content: str


# A prompt is plain text, or chat messages that the backend renders with the model's template.
Prompt = str | tuple[Message, ...]


@dataclass(frozen=True)
class Loglikelihood:
    """log P(continuation | context): multiple-choice and cloze scoring."""

    context: Prompt
    continuation: str


@dataclass(frozen=True)
class Generate:
    """Greedy (temperature 0) generation until a stop sequence or ``max_tokens``."""

    prompt: Prompt
    max_tokens: int
    stop: tuple[str, ...] = ()
    temperature: float = 0.0


Request = Loglikelihood | Generate


@dataclass(frozen=True)
class LoglikelihoodResult:
    logprob: float
    is_greedy: bool
    n_tokens: int


def prompt_to_json(prompt: Prompt) -> str | list[dict[str, str]]:
    return prompt if isinstance(prompt, str) else [asdict(m) for m in prompt]


def request_key(req: Request) -> str:
    """A stable content hash of a request: identical requests share one key (dedupe + cache)."""
    body: dict[str, Any]
    if isinstance(req, Loglikelihood):
        body = {
            "kind": "loglikelihood",
            "context": prompt_to_json(req.context),
            "continuation": req.continuation,
        }
    else:
        body = {
            "kind": "generate",
            "prompt": prompt_to_json(req.prompt),
            "max_tokens": req.max_tokens,
            "stop": list(req.stop),
            "temperature": req.temperature,
        }
    blob = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
