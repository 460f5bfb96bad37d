"""The ``jpeval`` command: run | tasks | validate | new-task | leaderboard | contamination |
prepare-model.

Only the standard library is imported at start-up; each command imports what it needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return n


def _model_args(text: str) -> dict[str, Any]:
    """``k=v,k2=v2`` with YAML scalars (numbers, true/false) for the values."""
    import yaml

    out: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise argparse.ArgumentTypeError(f"expected key=value, got {part!r}")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


def build_parser() -> argparse.ArgumentParser:
    from jpeval import __version__

    p = argparse.ArgumentParser(
        prog="jpeval", description="Japanese-language LLM evaluation harness."
    )
    p.add_argument("--version", action="version", version=f"jpeval {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="evaluate a model on tasks or a suite")
    r.add_argument(
        "--model",
        required=True,
        help="name in configs/models, hf:PATH_OR_ID, vllm:ID, openai:MODEL@URL",
    )
    which = r.add_mutually_exclusive_group()
    which.add_argument(
        "--tasks", type=_csv, default=[], help="comma-separated task names or globs (keigo.*)"
    )
    which.add_argument("--suite", help="suite name in configs/suites (default: quick)")
    r.add_argument(
        "--include-path",
        type=Path,
        action="append",
        default=[],
        help="extra task folder (repeatable)",
    )
    r.add_argument("--limit", type=_positive, help="first N items of each task")
    r.add_argument(
        "--batch-size",
        type=_positive,
        default=16,
        help="sequences per forward pass (default: 16)",
    )
    r.add_argument(
        "--output", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    r.add_argument(
        "--seed", type=int, default=1234, help="seed for bootstrap intervals and the backend"
    )
    r.add_argument("--device", help="torch device for the hf backend (default: cuda if available)")
    r.add_argument(
        "--no-cache", action="store_true", help="ignore and do not fill the request cache"
    )
    r.add_argument(
        "--judge",
        metavar="MODEL",
        help="judge model (same forms as --model) for tasks with a judge rubric",
    )
    r.add_argument(
        "--model-args",
        type=_model_args,
        default={},
        help="backend options over the model entry's, e.g. dtype=float32,concurrency=4",
    )

    t = sub.add_parser("tasks", help="list the available tasks")
    t.add_argument("--include-path", type=Path, action="append", default=[])

    v = sub.add_parser("validate", help="check task folders and report every problem")
    v.add_argument("paths", type=Path, nargs="+", help="task folders (or folders containing them)")
    v.add_argument(
        "--artifacts",
        action="store_true",
        help="also print no-knowledge baselines (shortcuts that beat chance are flagged)",
    )
    v.add_argument(
        "--strict", action="store_true", help="with --artifacts: exit 1 when a baseline is flagged"
    )
    v.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="with --artifacts: how far from chance a baseline may be (default: 0.10)",
    )

    n = sub.add_parser("new-task", help="write a working task skeleton")
    n.add_argument("name", help="dotted name, e.g. keigo.my_task")
    n.add_argument(
        "--dir", type=Path, default=None, help="parent folder (default: tasks/<category>)"
    )

    lb = sub.add_parser("leaderboard", help="aggregate results into leaderboard tables")
    lb.add_argument(
        "paths", type=Path, nargs="*", default=[Path("results")], help="results folders or files"
    )
    lb.add_argument("--config", type=Path, help="default: configs/leaderboard.yaml")
    lb.add_argument(
        "--reported", type=Path, help="folder of published scores (default: configs/reported)"
    )
    lb.add_argument(
        "--output", type=Path, default=Path("results"), help="where leaderboard.* are written"
    )
    lb.add_argument(
        "--run", action="append", default=[], help="pin this run id for its model (repeatable)"
    )

    c = sub.add_parser(
        "contamination", help="report task items whose 13-grams occur in a text corpus"
    )
    cwhich = c.add_mutually_exclusive_group()
    cwhich.add_argument("--tasks", type=_csv, default=[], help="task names or globs")
    cwhich.add_argument("--suite", help="suite name (default: leaderboard, the own modules)")
    c.add_argument("--include-path", type=Path, action="append", default=[])
    c.add_argument(
        "--corpus", type=Path, nargs="+", required=True, help="text files (UTF-8), one or more"
    )
    c.add_argument("--n", type=_positive, default=13, help="n-gram length in characters")
    c.add_argument("--output", type=Path, help="also write the report as JSON here")

    m = sub.add_parser("prepare-model", help="build the local copy a model entry needs (once)")
    m.add_argument("model", help="name in configs/models")
    m.add_argument("--force", action="store_true", help="rebuild even if already prepared")
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from jpeval.report import print_run
    from jpeval.runner import RunConfig, run

    cfg = RunConfig(
        model=args.model,
        tasks=tuple(args.tasks),
        suite=args.suite,
        include=tuple(args.include_path),
        limit=args.limit,
        batch_size=args.batch_size,
        output=args.output,
        seed=args.seed,
        device=args.device,
        use_cache=not args.no_cache,
        model_args=args.model_args,
        judge=args.judge,
    )
    path, result, _ = run(cfg)
    print_run(result, path)
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from jpeval.errors import ValidationError
    from jpeval.registry import discover_tasks
    from jpeval.report import print_tasks
    from jpeval.spec import TaskSpec, load_spec
    from jpeval.task import Task

    found = discover_tasks(args.include_path)
    tasks: list[Task | TaskSpec] = []
    broken = 0
    for name in sorted(found):
        try:  # public sets are listed from their spec: no download just to list them
            spec = load_spec(found[name] / "task.yaml", TaskSpec)
            tasks.append(spec if spec.hf else Task.load(found[name]))
        except ValidationError as e:
            broken += 1
            print(f"jpeval: task {name} ({found[name]}) does not load:\n{e}", file=sys.stderr)
    print_tasks(tasks)
    return 1 if broken else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from jpeval.errors import ValidationError
    from jpeval.task import Task

    folders: list[Path] = []
    for p in args.paths:
        folders += (
            [p] if (p / "task.yaml").is_file() else sorted(q.parent for q in p.rglob("task.yaml"))
        )
    if not folders:
        print(
            f"jpeval: no task.yaml found under {', '.join(map(str, args.paths))}", file=sys.stderr
        )
        return 1
    failed = 0
    flagged: list[str] = []
    for folder in folders:
        try:
            task = Task.load(folder)
        except ValidationError as e:
            failed += 1
            print(f"FAIL {folder}\n{e}", file=sys.stderr)
            continue
        print(
            f"ok   {folder}  {task.name} v{task.spec.version}: "
            f"{len(task.items)} items, {len(task.shots)} few-shot"
        )
        if args.artifacts:
            flagged += _artifacts(task, args.tolerance)
    if flagged:
        print(f"{len(flagged)} baseline(s) flagged:", file=sys.stderr)
        for line in flagged:
            print(f"  {line}", file=sys.stderr)
    return 1 if failed or (args.strict and flagged) else 0


def _artifacts(task: Any, tolerance: float | None) -> list[str]:
    """Print one task's no-knowledge baselines; return a line per flagged one."""
    from jpeval.artifacts import TOLERANCE, check
    from jpeval.report import print_artifacts

    tol = TOLERANCE if tolerance is None else tolerance
    report = check(task)
    print_artifacts(report, tol)
    return [
        f"{report.task}: {b.name} scores {b.score:.3f}, chance {b.chance:.3f} (±{tol:.2f})"
        for b in report.flags(tol)
    ]


def cmd_new_task(args: argparse.Namespace) -> int:
    from jpeval.scaffold import new_task

    folder = new_task(args.name, args.dir)
    print(
        f"wrote {folder}: edit task.yaml and the JSONL files, then run `jpeval validate {folder}`"
    )
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from jpeval.errors import JpevalError
    from jpeval.leaderboard.aggregate import build, load_runs, result_files
    from jpeval.leaderboard.config import load_config, load_reported
    from jpeval.leaderboard.render import write_all
    from jpeval.paths import configs_dir

    cfg = load_config(args.config or configs_dir() / "leaderboard.yaml")
    reported = load_reported(args.reported or configs_dir() / "reported")
    files = result_files(args.paths)
    if not files:
        raise JpevalError(
            f"no results files under {', '.join(map(str, args.paths))}: run `jpeval run` first"
        )
    board = build(cfg, load_runs(files), reported, args.run)
    for path in write_all(board, args.output):
        print(f"wrote {path}")
    return 0


def cmd_prepare_model(args: argparse.Namespace) -> int:
    from jpeval.models import prepare, resolve_model

    spec = resolve_model(args.model)
    path = prepare(spec, force=args.force)
    print(f"{spec.name}: ready at {path}" if path else f"{spec.name}: nothing to prepare")
    return 0


def cmd_contamination(args: argparse.Namespace) -> int:
    from jpeval.contamination import scan
    from jpeval.report import print_contamination
    from jpeval.results import atomic_write_text, to_json
    from jpeval.runner import load_suite, select_tasks

    patterns = args.tasks or load_suite(args.suite or "leaderboard").tasks
    tasks = select_tasks(patterns, args.include_path)
    hits = scan(tasks, args.corpus, args.n)
    print_contamination(hits, sum(len(t.items) for t in tasks), args.n)
    if args.output:
        report = {
            "n": args.n,
            "corpus": [str(p) for p in args.corpus],
            "tasks": {t.name: {"items": len(t.items), "data_sha256": t.data_sha256} for t in tasks},
            "items": [
                {"task": h.task, "id": h.id, "ngrams": h.ngrams, "found": len(h.found),
                 "ratio": round(h.ratio, 4)}
                for h in hits
            ],
        }  # fmt: skip
        atomic_write_text(args.output, to_json(report) + "\n")
    return 0


COMMANDS = {
    "run": cmd_run,
    "tasks": cmd_tasks,
    "validate": cmd_validate,
    "new-task": cmd_new_task,
    "prepare-model": cmd_prepare_model,
    "leaderboard": cmd_leaderboard,
    "contamination": cmd_contamination,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from jpeval.errors import JpevalError

    try:
        return COMMANDS[args.command](args)
    except JpevalError as e:
        print(f"jpeval: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jpeval: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
