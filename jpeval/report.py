"""Console tables for ``jpeval run`` and ``jpeval tasks`` (rich handles CJK widths)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jpeval.artifacts import ArtifactReport
from jpeval.contamination import Hit
from jpeval.results import RunResult
from jpeval.spec import TaskSpec
from jpeval.task import Task


def _console() -> Console:
    """The terminal's width on a terminal; wide enough for whole task names in logs and pipes."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def print_run(result: RunResult, path: Path, console: Console | None = None) -> None:
    console = console or _console()
    table = Table(
        title=escape(f"{result.model.display_name} ({result.model.backend})"),
        title_justify="left",
    )
    for col in ("task", "version", "metric", "score", "± stderr", "95% CI", "n"):
        table.add_column(col, justify="right" if col not in ("task", "metric") else "left")
    for ts in result.tasks.values():
        lo, hi = ts.ci95
        table.add_row(
            escape(ts.name),
            f"v{ts.version}",
            escape(ts.metric),
            f"{ts.score:.3f}",
            f"{ts.stderr:.3f}",
            f"{lo:.3f}–{hi:.3f}",
            str(ts.n),
        )
    for name, cat in sorted(result.categories.items()):
        table.add_row(
            f"[bold]{escape(name)}[/bold] (mean)",
            "",
            "",
            f"[bold]{cat.score:.3f}[/bold]",
            "",
            "",
            "",
        )
    console.print(table)
    r = result.requests
    console.print(
        f"requests: {r.unique} unique of {r.total}, {r.cached} from cache, {r.computed} computed "
        f"in {result.provenance.timings['requests']:.1f} s"
    )
    console.print(f"results: {escape(str(path))}")


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
        row = (spec.name, f"v{spec.version}", spec.kind, items, shots, spec.description)
        table.add_row(*map(escape, row))
    console.print(table)


def _clip(text: str, width: int = 40) -> str:
    """Text for a table cell: one line, at most ``width`` characters, cut with a marker."""
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def print_contamination(hits: Sequence[Hit], n_items: int, n: int) -> None:
    """Items found in the corpus, most contaminated first."""
    console = _console()
    table = Table(title=f"{len(hits)} of {n_items} items share a {n}-gram with the corpus")
    for col in ("task", "id", "found", "share", "example"):
        table.add_column(col)
    for h in hits:
        example = _clip(min(h.found))
        row = (h.task, h.id, f"{len(h.found)}/{h.ngrams}", f"{h.ratio:.0%}", example)
        table.add_row(*map(escape, row))
    console.print(table)


def print_artifacts(
    report: ArtifactReport, tolerance: float, console: Console | None = None
) -> None:
    """One task's no-knowledge baselines beside chance (0 for generation), flagged ones marked."""
    console = console or _console()
    mc = report.kind == "multiple_choice"
    title = f"{report.task} v{report.version}: no-knowledge baselines"
    if not mc:
        title += f" ({report.metric})"
    table = Table(title=escape(title), title_justify="left")
    table.add_column("baseline")
    for col in ("score", "chance" if mc else "expected", "items", f"±{tolerance:.2f}"):
        table.add_column(col, justify="right")
    for b in report.baselines:
        score = "n/a" if b.score is None else f"{b.score:.3f}"
        mark = "[bold red]FLAG[/bold red]" if b.flagged(tolerance) else "ok"
        table.add_row(escape(b.name), score, f"{b.chance:.3f}", str(b.n), mark)
    console.print(table)
