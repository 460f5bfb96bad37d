"""The generation metrics against answers written without the references
(bench/validity/answers.jsonl, and heldout.jsonl: written after the metrics were settled, for
other items): correct ones in any wording score >= 0.9 on average per task, wrong ones (a fact
changed, the error left, the input copied) <= 0.3."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from jpeval.artifacts import check_written
from jpeval.registry import discover_tasks
from jpeval.task import Task

VALIDITY = Path(__file__).resolve().parents[1] / "bench/validity"


def _by_task(name: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for line in (VALIDITY / name).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out[row["task"]].append(row)
    return out


BY_TASK = _by_task("answers.jsonl")
HELD_OUT = _by_task("heldout.jsonl")


def test_every_generation_task_has_written_answers() -> None:
    found = discover_tasks()
    own = [n for n in found if not n.startswith("external.")]
    generation = {n for n in own if Task.load(found[n]).spec.kind == "generate"}
    assert generation <= set(BY_TASK) and generation <= set(HELD_OUT)


@pytest.mark.parametrize(
    ("name", "rows"),
    [pytest.param(n, r, id=f"{n}-{s}") for s, d in (("answers", BY_TASK), ("heldout", HELD_OUT))
     for n, r in sorted(d.items())],
)  # fmt: skip
def test_correct_answers_score_high_and_wrong_ones_low(name: str, rows: list[dict]) -> None:
    result = check_written(Task.load(discover_tasks()[name]), rows)
    assert len(result.correct) >= 10 and len(result.wrong) >= 10
    assert result.correct_mean is not None and result.correct_mean >= 0.9, [
        a for _, a, s in result.correct if s < 1
    ]
    assert result.wrong_mean is not None and result.wrong_mean <= 0.3, [
        a for _, a, s in result.wrong if s > 0
    ]
