"""One registry type for backends, metrics and model preparers, plus task discovery.

A registry entry is a name and a loader called on first use, so optional heavy
dependencies (torch, transformers, vllm) are imported only when needed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Generic, TypeVar

import yaml

from jpeval.errors import JpevalError, Problem, ValidationError
from jpeval.paths import tasks_dir

T = TypeVar("T")

TASK_ENTRY_POINT_GROUP = "jpeval.tasks"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class Registry(Generic[T]):
    """Names mapped to lazy loaders; unknown names raise with suggestions."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._loaders: dict[str, Callable[[], T]] = {}

    def register(self, name: str, loader: Callable[[], T]) -> None:
        if name in self._loaders:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._loaders[name] = loader

    def get(self, name: str) -> T:
        if name not in self._loaders:
            known = ", ".join(sorted(self._loaders)) or "none"
            raise JpevalError(
                f"unknown {self.kind} {name!r}.{did_you_mean(name, self._loaders)} Known: {known}."
            )
        return self._loaders[name]()

    def __contains__(self, name: object) -> bool:
        return name in self._loaders

    def names(self) -> list[str]:
        return sorted(self._loaders)


def _task_name(spec_path: Path) -> str:
    """Read only the ``name`` field of a task.yaml (full validation happens on load)."""
    try:
        data = yaml.safe_load(spec_path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ValidationError([Problem(str(spec_path), f"cannot read task spec: {e}")]) from None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise ValidationError([Problem(str(spec_path), "required field is missing", field="name")])
    return name


def entry_point_task_dirs() -> list[Path]:
    """Folders registered by installed packages under the ``jpeval.tasks`` entry point group.

    An entry point refers to a function that returns a folder path (or a list of them).
    """
    dirs: list[Path] = []
    for ep in entry_points(group=TASK_ENTRY_POINT_GROUP):
        try:
            found = ep.load()()
        except Exception as e:  # a broken plugin must not hide the others' names
            raise JpevalError(f"task plugin {ep.name!r} ({ep.value}) failed to load: {e}") from e
        dirs.extend(Path(p) for p in (found if isinstance(found, list | tuple) else [found]))
    return dirs


def discover_tasks(include: Iterable[Path] = (), builtin: bool = True) -> dict[str, Path]:
    """Map every task name to its folder: built-in tasks, ``--include-path`` folders, plugins."""
    roots = [tasks_dir()] if builtin else []
    roots += [Path(p) for p in include]
    roots += entry_point_task_dirs()
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for root in roots:
        if not root.is_dir():
            problems.append(Problem(str(root), "task folder not found"))
            continue
        for spec_path in sorted(root.rglob("task.yaml")):
            name = _task_name(spec_path)
            if name in found and found[name] != spec_path.parent:
                problems.append(
                    Problem(
                        str(spec_path),
                        f"task {name!r} is defined twice (also in {found[name] / 'task.yaml'})",
                        field="name",
                    )
                )
                continue
            found[name] = spec_path.parent
    if problems:
        raise ValidationError(problems)
    return found
