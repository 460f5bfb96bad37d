"""Backends: one class each with ``loglikelihood`` and ``generate``, registered lazily.

``import jpeval`` never imports torch, transformers or vllm: a registry entry is a
name and a function that imports its backend class on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jpeval.registry import Registry
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult
from jpeval.spec import ModelSpec


@dataclass(frozen=True)
class BackendOptions:
    """Run-level settings a backend needs besides the model entry."""

    batch_size: int = 16
    seed: int = 1234
    device: str | None = None  # None: cuda if available, else cpu
    model_path: Path | None = None  # a prepared local copy overrides ModelSpec.model


class Backend(Protocol):
    name: str
    has_chat_template: bool
    # How many requests the runner hands over (and caches) at a time; None: all at once.
    chunk_size: int | None

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]: ...

    def generate(self, requests: Sequence[Generate]) -> list[str]: ...

    def fingerprint(self) -> dict[str, Any]: ...


BackendFactory = Callable[[ModelSpec, BackendOptions], Backend]
BACKENDS: Registry[BackendFactory] = Registry("backend")


def _hf() -> BackendFactory:
    from jpeval.backends.hf import HFBackend

    return HFBackend.from_spec


def _random() -> BackendFactory:
    from jpeval.backends.random import RandomBackend

    return RandomBackend.from_spec


def _openai() -> BackendFactory:
    from jpeval.backends.openai import OpenAIBackend

    return OpenAIBackend.from_spec


def _vllm() -> BackendFactory:
    from jpeval.backends.vllm import VLLMBackend

    return VLLMBackend.from_spec


BACKENDS.register("hf", _hf)
BACKENDS.register("vllm", _vllm)
BACKENDS.register("openai", _openai)
BACKENDS.register("random", _random)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Truncate generated text at the first occurrence of any stop sequence."""
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]
