"""Where jpeval finds its built-in tasks and configs, and where it caches models."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _builtin(name: str) -> Path:
    """A top-level folder of the source tree, or its copy inside an installed wheel."""
    source = _PKG.parent / name
    return source if source.is_dir() else _PKG / "_builtin" / name


def tasks_dir() -> Path:
    return _builtin("tasks")


def configs_dir() -> Path:
    return (
        Path(os.environ["JPEVAL_CONFIGS"])
        if "JPEVAL_CONFIGS" in os.environ
        else _builtin("configs")
    )


def cache_dir() -> Path:
    """Prepared models live here: ``$JPEVAL_CACHE_DIR`` or ``~/.cache/jpeval``."""
    if "JPEVAL_CACHE_DIR" in os.environ:
        return Path(os.environ["JPEVAL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "jpeval"
