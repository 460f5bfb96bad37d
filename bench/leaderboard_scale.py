"""How long the leaderboard takes for many models: aggregate and render 200 models x 30 tasks.

    .venv/bin/python bench/leaderboard_scale.py [--models 200] [--tasks 30] [--items 100]

Writes synthetic results files (the real schema, random per-item scores) to a temporary
folder, then times reading + aggregation (1,000 bootstrap replicates) and rendering of
all four outputs, separately. Target: under 2 s in all.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from jpeval.leaderboard.aggregate import build, load_runs, result_files
from jpeval.leaderboard.config import Category, LeaderboardConfig
from jpeval.leaderboard.render import write_all
from jpeval.results import (
    CategoryScore, MetricValue, ModelInfo, Provenance, Requests, RunResult, Sample, TaskScore, write_run,
)


def synthesise(out: Path, n_models: int, n_tasks: int, n_items: int) -> None:
    rng = np.random.default_rng(0)
    cats = ["keigo", "culture", "admin"]
    for m in range(n_models):
        skill = rng.uniform(0.25, 0.9)
        tasks, samples = {}, {}
        for t in range(n_tasks):
            name = f"{cats[t % 3]}.task{t:02d}"
            scores = (rng.random(n_items) < skill).astype(float)
            samples[name] = [
                Sample(task=name, id=f"i{i}", prompt="p", choices=["a", "b", "c", "d"], prediction="a", gold="a",
                       scores={"accuracy": float(s)})
                for i, s in enumerate(scores)
            ]
            mean = float(scores.mean())
            tasks[name] = TaskScore(
                name=name, category=cats[t % 3], version=1, kind="multiple_choice", mode="loglikelihood",
                metric="accuracy", score=mean, stderr=0.0, ci95=(mean, mean), n=n_items,
                metrics={"accuracy": MetricValue(mean=mean, stderr=0.0)}, chat=False, data_sha256="0" * 64,
                prompt_sha256="0" * 64, fewshot_ids=[], samples_file=f"run{m:03d}/samples/{name}.jsonl",
                item_scores=scores.tolist(), chance=0.25,
            )
        result = RunResult(
            run_id=f"run{m:03d}",
            model=ModelInfo(name=f"model-{m:03d}", display_name=f"Model {m}", backend="hf", model=f"org/m{m}",
                            origin="domestic" if m % 2 else "global", fingerprint={}),
            tasks=tasks,
            categories={c: CategoryScore(score=0.0, tasks=[]) for c in cats},
            requests=Requests(total=0, unique=0, cached=0, computed=0),
            provenance=Provenance(jpeval_version="bench", git_commit=None, git_dirty=None, command=[], python="",
                                  platform="", hardware={}, libraries={}, normalizer_version="1", seed=0, limit=None,
                                  batch_size=1, started_at="", finished_at="", timings={}),
        )
        write_run(out / f"model-{m:03d}", result, samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--items", type=int, default=100)
    args = ap.parse_args()
    cfg = LeaderboardConfig(
        categories={c: Category(tasks=[f"{c}.*"]) for c in ("keigo", "culture", "admin")},
        overall=["keigo", "culture", "admin"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        synthesise(root / "results", args.models, args.tasks, args.items)
        t0 = time.perf_counter()
        runs = load_runs(result_files([root / "results"]))
        t1 = time.perf_counter()
        board = build(cfg, runs, [])
        t2 = time.perf_counter()
        write_all(board, root / "out")
        t3 = time.perf_counter()
    print(f"{args.models} models x {args.tasks} tasks x {args.items} items, {cfg.bootstrap} bootstrap replicates")
    print(f"read {t1 - t0:.2f} s | aggregate {t2 - t1:.2f} s | render md/csv/json/html {t3 - t2:.2f} s")
    print(f"total {t3 - t0:.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
