"""Builds the keigo rewriting tasks from their source files.

    .venv/bin/python tasks/keigo/build_rewrite_items.py [correction|conversion]

Each line of correction/source.jsonl and conversion/source.jsonl becomes a generation item
(the model rewrites; references are the answers; the distractors, as `wrong`, are known wrong
answers the metric rejects) and a multiple-choice item (the first
reference among three distractors, gold positions cycled so they are balanced). Lines 1-120
are test items, the rest few-shot examples. Every reference is checked with the keigo
analyser first: no form-level error, and (conversion) every required type present.
(jpeval never runs Python from task folders; this script is for the tasks' authors.)
"""

from __future__ import annotations

import json
from pathlib import Path

from jpeval.metrics.rewrite import keigo_ok
from jpeval.text.keigo import analyze

HERE = Path(__file__).parent
N_TEST = 120
FIELDS = {"correction": ("situation", "sentence", "error"), "conversion": ("situation", "plain", "instruction", "required")}


def check(task: str, row: dict) -> None:
    for ref in row["references"]:
        if not keigo_ok(ref, row.get("required", [])):
            a = analyze(ref)
            raise SystemExit(f"{task} {row['id']}: reference {ref!r}: errors {a.errors}, or a required type missing {row.get('required')}")
    if len({*row["distractors"], row["references"][0]}) != 4:
        raise SystemExit(f"{task} {row['id']}: distractors must be 3 and differ from the reference")


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def build(task: str) -> None:
    rows = [json.loads(line) for line in (HERE / task / "source.jsonl").read_text(encoding="utf-8").splitlines()]
    gen, mc = [], []
    for i, row in enumerate(rows):
        check(task, row)
        keep = {k: row[k] for k in FIELDS[task]}
        # the generation item keeps the distractors: known wrong answers its metric rejects
        gen.append({"id": row["id"], **keep, "answer": row["references"], "wrong": row["distractors"],
                    "rationale": row["rationale"]})
        choices = list(row["distractors"])
        gold = i % 4
        choices.insert(gold, row["references"][0])
        mc.append({"id": row["id"], **keep, "choices": choices, "answer": gold, "rationale": row["rationale"]})
    for folder, items in ((task, gen), (f"{task}_mc", mc)):
        write(HERE / folder / "test.jsonl", items[:N_TEST])
        write(HERE / folder / "dev.jsonl", items[N_TEST:])


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or FIELDS:  # one task: build_rewrite_items.py correction
        build(name)
