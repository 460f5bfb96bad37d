"""Leaderboard outputs: Markdown (for a README), CSV, JSON (schema-versioned) and one static,
self-contained HTML page. Every string from a model or a task is escaped (HTML by Jinja's
autoescape; Markdown by ``md``), and very long strings are cut with a visible marker."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from jpeval.leaderboard.aggregate import Board, Interval
from jpeval.results import atomic_write_text

MAX_TEXT = 80


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """One line, at most ``limit`` characters, with a marker where it was cut."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def md(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no HTML, one line."""
    s = clip(text).replace("\\", "\\\\").replace("|", "\\|")
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fmt(iv: Interval | None) -> str:
    return "—" if iv is None else f"{iv.score:.3f} [{iv.lo:.3f}, {iv.hi:.3f}]"


def params(p: float | None) -> str:
    return "—" if p is None else (f"{p:g}B")


def to_markdown(board: Board) -> str:
    cats = list(next(iter(board.models)).categories) if board.models else []
    lines = [
        f"# {md(board.title)}",
        "",
        f"Scores are each task's primary metric (0–1; normalisation: {board.normalise}), with 95% "
        f"bootstrap intervals over items ({board.bootstrap} resamples, seed {board.seed}). Overall "
        f"is the weighted mean of {', '.join(board.overall_categories)}. Models whose intervals "
        "overlap share a rank.",
        "",
        "| rank | model | origin | size | overall | " + " | ".join(cats) + " |",
        "|---:|---|---|---:|---|" + "---|" * len(cats),
    ]
    for r in board.models:
        cells = [fmt(r.categories.get(c)) for c in cats]
        rank = str(r.rank) if r.rank is not None else "—"
        head = [rank, md(r.display_name), r.origin, params(r.params_b), fmt(r.overall)]
        lines.append("| " + " | ".join(head + cells) + " |")
    if board.gaps or board.origin_means:
        lines += ["", "## Domestic vs global", ""]
        if not board.gaps:
            lines += [
                "No category has both a measured domestic and a measured global model yet.",
                "",
            ]
        lines += [
            "| category | best domestic | best global | gap (domestic − global) |",
            "|---|---|---|---|",
        ]
        names = {r.name: r.display_name for r in board.models}
        for g in board.gaps:
            cells = [g.category, md(names[g.best_domestic]), md(names[g.best_global]), fmt(g.gap)]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "| origin | " + " | ".join(cats) + " |", "|---|" + "---:|" * len(cats)]
        for origin, means in sorted(board.origin_means.items()):
            vals = ["—" if (v := means.get(c)) is None else f"{v:.3f}" for c in cats]
            lines.append(f"| {origin} (mean) | " + " | ".join(vals) + " |")
    lines += [
        "",
        "## Tasks",
        "",
        "| task | version | metric | "
        + " | ".join(md(r.display_name) for r in board.models)
        + " |",
    ]
    lines.append("|---|---:|---|" + "---:|" * len(board.models))
    for t in board.tasks:
        vals = []
        for r in board.models:
            cell = r.tasks.get(t.name)
            generated = t.kind == "multiple_choice" and cell is not None and cell.mode == "generate"
            vals.append("—" if cell is None else f"{cell.score:.3f}" + ("ᵍ" if generated else ""))
        lines.append(f"| {md(t.name)} | v{t.version} | {t.metric} | " + " | ".join(vals) + " |")
    lines += [
        "",
        "ᵍ: a multiple-choice task the model answered by generating (chat template); "
        "otherwise its options were scored by log-likelihood.",
    ]
    if board.reported:
        lines += [
            "",
            "## Reported, not measured by jpeval",
            "",
            "Published figures, for context only; never ranked with the measured rows above.",
            "",
        ]
        lines += [
            "| model | task | metric | value | shots | source |",
            "|---|---|---|---:|---:|---|",
        ]
        for p in board.reported:
            shots = "—" if p.shots is None else str(p.shots)
            cells = [md(p.model), md(p.task), md(p.metric), f"{p.value:.4f}", shots, md(p.source)]
            lines.append("| " + " | ".join(cells) + " |")
    if board.skipped:
        lines += ["", "Not shown (an older task version):", ""] + [
            f"- {md(s)}" for s in board.skipped
        ]
    return "\n".join(lines) + "\n"


def to_frame(board: Board) -> pd.DataFrame:
    rows = []
    for r in board.models:
        row: dict[str, object] = {
            "rank": r.rank,
            "model": r.name,
            "display_name": r.display_name,
            "origin": r.origin,
            "developer": r.developer,
            "params_b": r.params_b,
            "backend": r.backend,
        }
        for key, iv in [("overall", r.overall), *r.categories.items()]:
            row[key] = None if iv is None else iv.score
            row[f"{key}_lo"] = None if iv is None else iv.lo
            row[f"{key}_hi"] = None if iv is None else iv.hi
        for name, cell in r.tasks.items():
            row[f"{name}@v{cell.version}"] = cell.score
        rows.append(row)
    return pd.DataFrame(rows)


_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["clip"] = clip


def to_html(board: Board) -> str:
    cats = list(next(iter(board.models)).categories) if board.models else []
    names = {r.name: r.display_name for r in board.models}
    return _ENV.get_template("page.html.j2").render(
        board=board, cats=cats, names=names, fmt=fmt, params=params
    )


def write_all(board: Board, out_dir: Path) -> list[Path]:
    """Write leaderboard.{md,csv,json,html} into ``out_dir`` (each atomically)."""
    outputs = {
        "leaderboard.md": to_markdown(board),
        "leaderboard.csv": to_frame(board).to_csv(index=False),
        "leaderboard.json": board.model_dump_json(indent=2) + "\n",
        "leaderboard.html": to_html(board),
    }
    paths = []
    for name, text in outputs.items():
        atomic_write_text(out_dir / name, text)
        paths.append(out_dir / name)
    return paths
