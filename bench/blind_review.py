"""Blind review: how often a reviewer who never saw the key chose the keyed option.

    .venv/bin/python bench/blind_review.py

bench/validity/review/<task>.answers.jsonl holds one reviewer's answers to every item of a
multiple-choice task, given before the key was shown ({"id", "answer": "A".., "note"}). Each is
compared with the task's key as it is now, after the disagreements were resolved (an item
fixed so that the reviewer's reading is now the key counts as agreeing; an item whose key
stood after review stays a disagreement). Prints the table, lists the disagreements, and
rewrites the table at the top of bench/RESULTS-review.md (the text below its NOTES marker is
kept). The target is >= 0.97 per task.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jpeval.registry import discover_tasks  # noqa: E402
from jpeval.task import Task  # noqa: E402

REVIEW = ROOT / "bench/validity/review"
RESULTS = ROOT / "bench/RESULTS-review.md"
NOTES = "<!-- notes: everything below this line is kept when the file is rewritten -->"
LABELS = "ABCDEFGHIJ"


def agreement(task: Task, answers: list[dict]) -> tuple[int, int, list[str]]:
    keys = {str(it.fields["id"]): LABELS[int(it.fields[task.spec.answer])] for it in task.items}
    given = {str(a["id"]): a["answer"] for a in answers}
    missing = sorted(set(keys) - set(given))
    if missing:
        raise SystemExit(f"{task.name}: no blind answer for {missing[:5]} ({len(missing)} in all)")
    off = [
        f"{task.name} {i}: reviewer {given[i]}, key {k}" for i, k in keys.items() if given[i] != k
    ]
    return len(keys) - len(off), len(keys), off


def main() -> None:
    found = discover_tasks()
    rows, off_all = [], []
    for path in sorted(REVIEW.glob("*.answers.jsonl")):
        name = path.name.removesuffix(".answers.jsonl")
        lines = path.read_text(encoding="utf-8").splitlines()
        answers = [json.loads(line) for line in lines if line.strip()]
        agree, n, off = agreement(Task.load(found[name]), answers)
        rows.append(f"| {name} | {n} | {agree} | {agree / n:.3f} |")
        off_all += off
    table = "\n".join(["| task | items | agreeing | agreement |", "|---|---:|---:|---:|", *rows])
    print(table)
    print("\n".join(off_all) or "no disagreement")
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    RESULTS.write_text(
        "# Blind review of the multiple-choice items\n\n"
        "`.venv/bin/python bench/blind_review.py` (answers in `bench/validity/review/`), against"
        " the keys as they are now.\n\n"
        f"{table}\n\nDisagreements left: {len(off_all)}\n\n{NOTES}{notes}",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
