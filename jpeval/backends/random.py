"""A random-choice baseline: every option equally likely, the same draw for the same request.

It gives the leaderboard its floor: multiple choice at chance, generation empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from jpeval.backends import BackendOptions
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, request_key
from jpeval.spec import ModelSpec


class RandomBackend:
    name = "random"
    has_chat_template = False
    chunk_size: int | None = None

    def __init__(self, seed: int = 1234) -> None:
        self.seed = seed

    @classmethod
    def from_spec(cls, spec: ModelSpec, opts: BackendOptions) -> RandomBackend:
        return cls(seed=opts.seed)

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        out = []
        for r in requests:
            digest = hashlib.sha256(f"{self.seed}:{request_key(r)}".encode()).digest()
            out.append(LoglikelihoodResult(-int.from_bytes(digest[:8], "big") / 2**64, False, 1))
        return out

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        return ["" for _ in requests]

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": self.name, "seed": self.seed}
