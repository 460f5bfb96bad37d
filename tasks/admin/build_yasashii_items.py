"""Builds admin.yasashii and admin.yasashii_mc.

    .venv/bin/python tasks/admin/build_yasashii_items.py

Each line of yasashii/source.jsonl is one notice from a city office with its やさしい日本語
rewrites (references). It becomes a generation item (the model rewrites the notice; the
references are the answers; ``facts`` lists what every rewrite must state, one list of
accepted wordings per fact, each checked against every reference here).

Each line of yasashii_mc/source.jsonl (same ids, same order) gives the four choices of the
multiple-choice item, a 2 x 2 factorial design: `gold` (a reference: every fact kept, every
rule kept), `fact_error` (one fact changed, still good やさしい日本語), `style_error` (every
fact kept, one rule of やさしい日本語 broken: the rule named in `rule`), and `both_errors`
(the same fact change and the same broken rule). Each fact value and each style feature is in
exactly two of the four choices, so no choice is the centre of the others. The gold goes to
index i % 4 (balanced positions); the distractors follow in an order seeded by the id.
The first 100 lines are test items, the rest few-shot examples (dev.jsonl).

Before writing anything the script stops, naming the id and the problem, when
- an id is used twice;
- a reference breaks a rule of jpeval.text.yasashii.check;
- there are not exactly three distractors, or the four choices are not pairwise different;
- no distractor breaks a rule of the checker (each item needs at least one that still does);
- a distractor's length is not within ±30% of the first reference's;
- (multiple choice) the ids differ from the generation source, the gold is not a reference,
  the fact-error choice breaks a rule of the checker, a style-error choice breaks none, or the
  rule is not one of RULES.
(jpeval never runs Python from task folders; this script is for the tasks' authors.)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from jpeval.metrics.facts import states_fact
from jpeval.text.yasashii import check

HERE = Path(__file__).parent
SOURCE = HERE / "yasashii" / "source.jsonl"
MC_SOURCE = HERE / "yasashii_mc" / "source.jsonl"
RULES = {"no_keigo", "no_double_negative", "no_gengo", "no_tilde_range", "twelve_hour_time",
         "one_predicate"}
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
        refs = row["references"]
        if not refs:
            fail(rid, "no reference")
        for ref in refs:
            problems = check(ref)
            if problems:
                shown = "; ".join(f"{p.rule}: {p.detail}" for p in problems)
                fail(rid, f"reference {ref!r} breaks the checker ({shown})")
            for fact in row["facts"]:
                if not states_fact(ref, fact):
                    fail(rid, f"reference {ref!r} does not state the fact {fact}")


def validate_mc(rows: list[dict], mc_rows: list[dict]) -> None:
    if [r["id"] for r in rows] != [m["id"] for m in mc_rows]:
        raise SystemExit(f"{MC_SOURCE.name}: ids are not those of {SOURCE.name}, in the same order")
    for row, m in zip(rows, mc_rows):
        rid = m["id"]
        if m["gold"] not in row["references"]:
            fail(rid, "the multiple-choice gold is not one of the references")
        choices = [m["gold"], m["style_error"], m["fact_error"], m["both_errors"]]
        if len(set(choices)) != 4:
            fail(rid, "the four choices are not pairwise different")
        if m["rule"] not in RULES:
            fail(rid, f"rule {m['rule']!r} is not one of {sorted(RULES)}")
        if check(m["fact_error"]):
            fail(rid, "the fact-error choice breaks a rule of the checker (it must be good やさしい日本語)")
        for key in ("style_error", "both_errors"):
            if not check(m[key]):
                fail(rid, f"{key} breaks no rule of the checker")
        n = len(m["gold"])
        for d in choices[1:]:
            if abs(len(d) - n) > LENGTH_TOLERANCE * n:
                fail(rid, f"distractor {d!r} has {len(d)} characters; the gold has {n} (±30%)")
        if not m.get("rationale"):
            fail(rid, "no rationale")


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build() -> None:
    rows, mc_rows = read(SOURCE), read(MC_SOURCE)
    validate(rows)
    validate_mc(rows, mc_rows)
    gen, mc = [], []
    for i, (row, m) in enumerate(zip(rows, mc_rows)):
        gen.append({"id": row["id"], "notice": row["notice"], "answer": row["references"],
                    "facts": row["facts"], "rationale": row["rationale"]})
        gold = i % 4
        choices = [m["style_error"], m["fact_error"], m["both_errors"]]
        random.Random(m["id"]).shuffle(choices)
        choices.insert(gold, m["gold"])
        mc.append({"id": m["id"], "notice": row["notice"], "choices": choices, "answer": gold,
                   "rule": m["rule"], "rationale": m["rationale"]})
    for folder, items in (("yasashii", gen), ("yasashii_mc", mc)):
        write(HERE / folder / "test.jsonl", items[:N_TEST])
        write(HERE / folder / "dev.jsonl", items[N_TEST:])
    print(f"{len(rows)} items: {min(len(rows), N_TEST)} test, {max(len(rows) - N_TEST, 0)} dev")


if __name__ == "__main__":
    build()
