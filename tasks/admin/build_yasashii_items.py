"""Builds admin.yasashii and admin.yasashii_mc from tasks/admin/yasashii/source.jsonl.

    .venv/bin/python tasks/admin/build_yasashii_items.py

Each line of source.jsonl is one notice from a city office with its やさしい日本語 rewrites
(references) and three wrong rewrites (distractors). It becomes a generation item (the model
rewrites the notice; the references are the answers) and a multiple-choice item (the first
reference among the three distractors, at index i % 4 so gold positions are balanced).
The first 100 lines are test items, the rest few-shot examples (dev.jsonl).

Before writing anything the script stops, naming the id and the problem, when
- an id is used twice;
- a reference breaks a rule of jpeval.text.yasashii.check;
- there are not exactly three distractors, or the four choices are not pairwise different;
- no distractor breaks a rule of the checker (each item needs at least one that still does);
- a distractor's length is not within ±30% of the first reference's.
(jpeval never runs Python from task folders; this script is for the tasks' authors.)
"""

from __future__ import annotations

import json
from pathlib import Path

from jpeval.text.yasashii import check

HERE = Path(__file__).parent
SOURCE = HERE / "yasashii" / "source.jsonl"
N_TEST = 100
LENGTH_TOLERANCE = 0.30


def fail(row_id: str, problem: str) -> None:
    raise SystemExit(f"{SOURCE.name} {row_id}: {problem}")


def validate(rows: list[dict]) -> None:
    seen: set[str] = set()
    for row in rows:
        rid = row["id"]
        if rid in seen:
            fail(rid, "id is not unique")
        seen.add(rid)
        refs, distractors = row["references"], row["distractors"]
        if not refs:
            fail(rid, "no reference")
        for ref in refs:
            problems = check(ref)
            if problems:
                shown = "; ".join(f"{p.rule}: {p.detail}" for p in problems)
                fail(rid, f"reference {ref!r} breaks the checker ({shown})")
        if len(distractors) != 3:
            fail(rid, f"{len(distractors)} distractors (need 3)")
        choices = [refs[0], *distractors]
        if len(set(choices)) != 4:
            fail(rid, "the reference and the distractors are not pairwise different")
        if not any(check(d) for d in distractors):
            fail(rid, "no distractor breaks a rule of the checker (need at least one)")
        n = len(refs[0])
        for d in distractors:
            if abs(len(d) - n) > LENGTH_TOLERANCE * n:
                fail(rid, f"distractor {d!r} has {len(d)} characters; the reference has {n} (±30%)")


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def build() -> None:
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    validate(rows)
    gen, mc = [], []
    for i, row in enumerate(rows):
        gen.append({"id": row["id"], "notice": row["notice"], "answer": row["references"],
                    "rationale": row["rationale"]})
        gold = i % 4
        choices = list(row["distractors"])
        choices.insert(gold, row["references"][0])
        mc.append({"id": row["id"], "notice": row["notice"], "choices": choices, "answer": gold,
                   "rationale": row["rationale"]})
    for folder, items in (("yasashii", gen), ("yasashii_mc", mc)):
        write(HERE / folder / "test.jsonl", items[:N_TEST])
        write(HERE / folder / "dev.jsonl", items[N_TEST:])
    print(f"{len(rows)} items: {min(len(rows), N_TEST)} test, {max(len(rows) - N_TEST, 0)} dev")


if __name__ == "__main__":
    build()
