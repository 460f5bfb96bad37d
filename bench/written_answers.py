"""Do the generation metrics credit every correct answer and punish wrong ones?

    .venv/bin/python bench/written_answers.py [--answers bench/validity/answers.jsonl] [--show]

bench/validity/answers.jsonl holds, for a sample of items of each generation task, answers
written by a reviewer who saw only the prompts (never the references): three correct ones in
different natural wordings (a bare value, one with the weekday or era added, a sentence; other
correct keigo choices; other sentence splits and glosses) and three wrong ones (a fact changed,
the style error left in or a new one made, the input copied or a plausible wrong value). Each is
scored with the task's primary metric, as the runner scores a model's answer. The target: correct
answers average >= 0.9 and wrong ones <= 0.3 on every task. Prints the table (and, with --show,
every correct answer scored below 1 and every wrong one above 0); with the built-in answers it
also writes bench/RESULTS-validity.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jpeval.artifacts import WrittenCheck, check_written  # noqa: E402
from jpeval.registry import discover_tasks  # noqa: E402
from jpeval.task import Task  # noqa: E402

ANSWERS = ROOT / "bench/validity/answers.jsonl"
RESULTS = ROOT / "bench/RESULTS-validity.md"
NOTES = "<!-- notes: everything below this line is kept when the file is rewritten -->"
CORRECT_MIN, WRONG_MAX = 0.9, 0.3


def load(path: Path) -> dict[str, list[dict]]:
    by_task: dict[str, list[dict]] = defaultdict(list)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not JSON ({e.msg})") from None
            by_task[row["task"]].append(row)
    return by_task


def run(path: Path) -> list[WrittenCheck]:
    found = discover_tasks()
    by_task = sorted(load(path).items())
    return [check_written(Task.load(found[name]), rows) for name, rows in by_task]


def table(checks: list[WrittenCheck]) -> str:
    lines = [
        "| task | metric | correct answers | mean score | wrong answers | mean score | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for c in checks:
        ok = (c.correct_mean or 0) >= CORRECT_MIN and (c.wrong_mean or 0) <= WRONG_MAX
        lines.append(
            f"| {c.task} | {c.metric} | {len(c.correct)} | {c.correct_mean:.3f} | "
            f"{len(c.wrong)} | {c.wrong_mean:.3f} | {'met' if ok else 'MISSED'} |"
        )
    return "\n".join(lines)


def misses(checks: list[WrittenCheck]) -> str:
    out = []
    for c in checks:
        out += [f"- {c.task} {i} correct, scored {s:.2f}: {a}" for i, a, s in c.correct if s < 1]
        out += [f"- {c.task} {i} wrong, scored {s:.2f}: {a}" for i, a, s in c.wrong if s > 0]
    return "\n".join(out) or "(none)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--answers", type=Path, default=ANSWERS)
    ap.add_argument("--show", action="store_true", help="list every answer scored the wrong way")
    args = ap.parse_args()
    checks = run(args.answers)
    text = table(checks)
    print(text)
    if args.show:
        print("\n" + misses(checks))
    if args.answers.resolve() != ANSWERS:
        return  # bench/RESULTS-validity.md records the built-in answers only
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    RESULTS.write_text(
        "# Generation metrics on independently written answers\n\n"
        "`.venv/bin/python bench/written_answers.py` (answers: `bench/validity/answers.jsonl`)."
        f" Target: correct >= {CORRECT_MIN}, wrong <= {WRONG_MAX}.\n\n"
        f"{text}\n\n## Answers scored the wrong way\n\n{misses(checks)}\n\n{NOTES}{notes}",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
