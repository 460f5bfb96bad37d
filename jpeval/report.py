"""Console tables for ``jpeval run`` and ``jpeval tasks`` (rich handles CJK widths)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from jpeval.results import RunResult
from jpeval.spec import TaskSpec
from jpeval.task import Task


def _console() -> Console:
    """The terminal's width on a terminal; wide enough for whole task names in logs and pipes."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def print_run(result: RunResult, path: Path, console: Console | None = None) -> None:
    console = console or _console()
    table = Table(
        title=f"{result.model.display_name} ({result.model.backend})", title_justify="left"
    )
    for col in ("task", "version", "metric", "score", "± stderr", "95% CI", "n"):
        table.add_column(col, justify="right" if col not in ("task", "metric") else "left")
    for ts in result.tasks.values():
        lo, hi = ts.ci95
        table.add_row(
            ts.name,
            f"v{ts.version}",
            ts.metric,
            f"{ts.score:.3f}",
            f"{ts.stderr:.3f}",
            f"{lo:.3f}–{hi:.3f}",
            str(ts.n),
        )
    for name, cat in sorted(result.categories.items()):
        table.add_row(
            f"[bold]{name}[/bold] (mean)", "", "", f"[bold]{cat.score:.3f}[/bold]", "", "", ""
        )
    console.print(table)
    r = result.requests
    console.print(
        f"requests: {r.unique} unique of {r.total}, {r.cached} from cache, {r.computed} computed "
        f"in {result.provenance.timings['requests']:.1f} s"
    )
    console.print(f"results: {path}")


def print_tasks(tasks: Sequence[Task | TaskSpec], console: Console | None = None) -> None:
    """One row per task; public sets (given as specs) show where their items come from."""
    console = console or _console()
    table = Table()
    for col in ("task", "version", "kind", "items", "few-shot", "description"):
        table.add_column(col)
    for t in tasks:
        if isinstance(t, Task):
            spec, items, shots = t.spec, str(len(t.items)), str(len(t.shots))
        else:
            assert t.hf is not None
            spec, items = t, f"hf:{t.hf.path}"
            shots = str(t.fewshot.n) if t.fewshot else "0"
        table.add_row(spec.name, f"v{spec.version}", spec.kind, items, shots, spec.description)
    console.print(table)
