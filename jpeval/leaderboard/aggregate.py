"""From results files to a leaderboard: select runs, join model metadata, bootstrap intervals.

Intervals: items of each task are resampled (seeded, the same resamples for every model,
so differences between models are paired); task replicates are combined into category and
overall replicates with the configured weights; 95% intervals are percentiles of those.
Ranks count the models whose interval lies wholly above: overlapping models share a rank.
"""

from __future__ import annotations

import fnmatch
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from jpeval.errors import Problem, ValidationError
from jpeval.leaderboard.config import LeaderboardConfig, Reported
from jpeval.models import model_specs
from jpeval.results import RunResult
from jpeval.spec import pydantic_problems

SCHEMA_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interval(_Out):
    score: float
    lo: float
    hi: float


class TaskCell(Interval):
    n: int
    version: int
    mode: str
    run_id: str


class ModelRow(_Out):
    name: str
    display_name: str
    origin: str
    developer: str
    params_b: float | None
    backend: str
    rank: int | None
    overall: Interval | None
    categories: dict[str, Interval | None]
    tasks: dict[str, TaskCell]


class TaskInfo(_Out):
    name: str
    kind: str
    category: str
    version: int
    metric: str


class Gap(_Out):
    category: str
    best_domestic: str
    best_global: str
    gap: Interval


class Board(_Out):
    schema_version: int = SCHEMA_VERSION
    title: str
    normalise: str
    seed: int
    bootstrap: int
    overall_categories: list[str]
    tasks: list[TaskInfo]
    models: list[ModelRow]
    gaps: list[Gap]
    origin_means: dict[str, dict[str, float | None]]
    reported: list[Reported]
    runs: list[str]
    skipped: list[str]


@dataclass
class Selected:
    """One model's chosen result for one task, with its per-item scores."""

    model: str
    task: str
    version: int
    kind: str
    mode: str
    metric: str
    run_id: str
    items: np.ndarray
    chance: float


def result_files(paths: Iterable[Path]) -> list[Path]:
    """Every run results file under the given folders (or the files themselves)."""
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(
                q
                for q in p.glob("*/*.json")
                if not q.parent.name.startswith(".") and q.name != "leaderboard.json"
            )
    return out


def load_runs(files: Sequence[Path]) -> list[tuple[Path, RunResult]]:
    runs, problems = [], []
    for f in files:
        try:
            runs.append((f, RunResult.model_validate_json(f.read_bytes())))
        except PydanticError as e:
            problems += pydantic_problems(e, str(f), {})
        except OSError as e:
            problems.append(Problem(str(f), f"cannot read: {e}"))
    if problems:
        raise ValidationError(problems)
    return runs


def _item_scores(path: Path, samples_file: str, metric: str) -> tuple[np.ndarray, float]:
    """Per-item scores of the primary metric, and the task's chance level."""
    sample_path = path.parent / samples_file
    try:
        lines = sample_path.read_text(encoding="utf-8").splitlines()
        rows = json.loads("[" + ",".join(lines) + "]")  # one parse for the whole file
    except (OSError, ValueError) as e:
        raise ValidationError([Problem(str(sample_path), f"cannot read samples: {e}")]) from None
    scores = np.empty(len(rows))
    chance = np.empty(len(rows))
    for i, row in enumerate(rows):
        try:
            scores[i] = float(row["scores"][metric])
        except (KeyError, TypeError, ValueError) as e:
            raise ValidationError(
                [Problem(str(sample_path), f"no {metric} score: {e}", i + 1, "scores")]
            ) from None
        choices = row.get("choices")
        chance[i] = 1 / len(choices) if choices else 0.0
    return scores, float(chance.mean()) if len(rows) else 0.0


def select(
    runs: Sequence[tuple[Path, RunResult]], pinned: Sequence[str] = ()
) -> tuple[dict[tuple[str, str], Selected], list[str]]:
    """The newest version of each task; for each (model, task) the latest run of it,
    unless a run of that model is pinned. Returns the selection and what was left out."""
    newest: dict[str, int] = {}
    for _, r in runs:
        for t in r.tasks.values():
            newest[t.name] = max(newest.get(t.name, t.version), t.version)
    pinned_models = {r.model.name for _, r in runs if r.run_id in pinned}
    chosen: dict[tuple[str, str], tuple[Path, RunResult]] = {}
    skipped: list[str] = []
    for path, r in sorted(runs, key=lambda pr: pr[1].run_id):
        if r.model.name in pinned_models and r.run_id not in pinned:
            continue
        for t in r.tasks.values():
            if t.version != newest[t.name]:
                skipped.append(
                    f"{r.model.name} {t.name} v{t.version} ({r.run_id}): v{newest[t.name]} is shown"
                )
                continue
            chosen[(r.model.name, t.name)] = (path, r)  # later runs replace earlier ones
    out = {}
    for (model, task), (path, r) in chosen.items():
        ts = r.tasks[task]
        if ts.item_scores is not None and ts.chance is not None:
            items, chance = np.asarray(ts.item_scores, dtype=np.float64), ts.chance
        else:  # results written before item scores were recorded: read the samples
            items, chance = _item_scores(path, ts.samples_file, ts.metric)
        out[(model, task)] = Selected(
            model, task, ts.version, ts.kind, ts.mode, ts.metric, r.run_id, items, chance
        )
    return out, sorted(set(skipped))


def _weights(n: int, boot: int, seed: int, task: str) -> np.ndarray:
    """Bootstrap resamples of n items as count weights (boot, n), the same for every model."""
    rng = np.random.default_rng([seed, zlib.crc32(task.encode()), n])
    return rng.multinomial(n, np.full(n, 1 / n), size=boot).astype(np.float64) / n


Scored = tuple[float, np.ndarray]  # a point estimate and its bootstrap replicates


def _combine(parts: list[tuple[str, float]], get: dict[str, Scored | None]) -> Scored | None:
    """Weighted mean of the parts' scores and replicates; None unless every part is present."""
    vals = [get.get(k) for k, _ in parts]
    present = [v for v in vals if v is not None]
    if not parts or len(present) != len(parts):
        return None
    total = sum(wt for _, wt in parts)
    p = sum(v[0] * wt for v, (_, wt) in zip(present, parts, strict=True)) / total
    r = np.sum([v[1] * wt for v, (_, wt) in zip(present, parts, strict=True)], axis=0) / total
    return p, r


def _interval(point: float, reps: np.ndarray) -> Interval:
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return Interval(score=round(point, 6), lo=round(float(lo), 6), hi=round(float(hi), 6))


def build(
    cfg: LeaderboardConfig,
    runs: Sequence[tuple[Path, RunResult]],
    reported: list[Reported],
    pinned: Sequence[str] = (),
) -> Board:
    selected, skipped = select(runs, pinned)
    infos = {r.model.name: r.model for _, r in runs}
    specs = model_specs()
    task_names = sorted({t for _, t in selected})
    cat_of: dict[str, str] = {}
    for task in task_names:
        for cat, category in cfg.categories.items():
            if any(fnmatch.fnmatchcase(task, pat) for pat in category.tasks):
                cat_of[task] = cat
                break
    models = sorted({m for m, _ in selected})

    # task replicates: (model, task) -> (point, replicates)
    point: dict[tuple[str, str], float] = {}
    reps: dict[tuple[str, str], np.ndarray] = {}
    for task in task_names:
        for n in sorted({selected[m, task].items.size for m in models if (m, task) in selected}):
            group = [
                m for m in models if (m, task) in selected and selected[m, task].items.size == n
            ]
            w = _weights(n, cfg.bootstrap, cfg.seed, task)
            scores = np.stack([selected[m, task].items for m in group])  # (models, n)
            boot = scores @ w.T  # (models, boot)
            for i, m in enumerate(group):
                s = selected[m, task]
                p, r = float(s.items.mean()), boot[i]
                if cfg.normalise == "chance" and s.chance < 1:
                    p, r = (p - s.chance) / (1 - s.chance), (r - s.chance) / (1 - s.chance)
                point[m, task], reps[m, task] = p, r

    cats_tasks = {c: [t for t in task_names if cat_of.get(t) == c] for c in cfg.categories}
    cat_vals: dict[tuple[str, str], Scored | None] = {}
    overall_vals: dict[str, Scored | None] = {}
    for m in models:
        per_task: dict[str, Scored | None] = {
            t: (point[m, t], reps[m, t]) if (m, t) in point else None for t in task_names
        }
        for c, tasks in cats_tasks.items():
            cat_vals[m, c] = _combine([(t, 1.0) for t in tasks], per_task)
        per_cat: dict[str, Scored | None] = {c: cat_vals[m, c] for c in cfg.categories}
        used = [c for c in cfg.overall if cats_tasks[c]]
        overall_vals[m] = _combine([(c, cfg.categories[c].weight) for c in used], per_cat)

    rows: list[ModelRow] = []
    for m in models:
        spec, info = specs.get(m), infos[m]
        rows.append(
            ModelRow(
                name=m,
                display_name=spec.label if spec else info.display_name,
                origin=spec.origin if spec else info.origin,
                developer=spec.developer if spec else "",
                params_b=spec.params_b if spec else None,
                backend=info.backend,
                rank=None,
                overall=_interval(*ov) if (ov := overall_vals[m]) else None,
                categories={
                    c: _interval(*v) if (v := cat_vals[m, c]) else None
                    for c in cfg.categories
                    if cats_tasks[c]
                },
                tasks={
                    t: TaskCell(
                        **_interval(point[m, t], reps[m, t]).model_dump(),
                        n=int(selected[m, t].items.size),
                        version=selected[m, t].version,
                        mode=selected[m, t].mode,
                        run_id=selected[m, t].run_id,
                    )
                    for t in task_names
                    if (m, t) in point
                },
            )
        )
    ranked = [r for r in rows if r.overall]
    for r in ranked:
        assert r.overall
        r.rank = 1 + sum(1 for o in ranked if o.overall and o.overall.lo > r.overall.hi)
    rows.sort(key=lambda r: (r.overall is None, -(r.overall.score if r.overall else 0), r.name))

    gaps, origin_means = _origins(cfg, rows, cat_vals, cats_tasks)
    first = {t: s for (_, t), s in selected.items()}
    tasks_info = [
        TaskInfo(
            name=t,
            kind=first[t].kind,
            category=cat_of.get(t, "other"),
            version=first[t].version,
            metric=first[t].metric,
        )
        for t in task_names
    ]
    return Board(
        title=cfg.title,
        normalise=cfg.normalise,
        seed=cfg.seed,
        bootstrap=cfg.bootstrap,
        overall_categories=[c for c in cfg.overall if cats_tasks[c]],
        tasks=tasks_info,
        models=rows,
        gaps=gaps,
        origin_means=origin_means,
        reported=reported,
        runs=sorted({s.run_id for s in selected.values()}),
        skipped=skipped,
    )


def _origins(
    cfg: LeaderboardConfig,
    rows: list[ModelRow],
    cat_vals: dict[tuple[str, str], Scored | None],
    cats_tasks: dict[str, list[str]],
) -> tuple[list[Gap], dict[str, dict[str, float | None]]]:
    """Best domestic vs best global model per category (paired gap), and means by origin."""
    gaps: list[Gap] = []
    means: dict[str, dict[str, float | None]] = {}
    by_origin = {o: [r for r in rows if r.origin == o] for o in ("domestic", "global")}
    for c in (c for c in cfg.categories if cats_tasks[c]):
        best = {}
        for o, group in by_origin.items():
            scored = [(v[0], r.name) for r in group if (v := cat_vals[r.name, c])]
            best[o] = max(scored)[1] if scored else None
            means.setdefault(o, {})[c] = (
                round(float(np.mean([s for s, _ in scored])), 6) if scored else None
            )
        d, g = best["domestic"], best["global"]
        if d and g:
            dv, gv = cat_vals[d, c], cat_vals[g, c]
            assert dv and gv
            gaps.append(
                Gap(
                    category=c,
                    best_domestic=d,
                    best_global=g,
                    gap=_interval(dv[0] - gv[0], dv[1] - gv[1]),
                )
            )
    return gaps, means
