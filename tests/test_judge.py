"""LLM-as-judge: score extraction, and a run judged by a model behind a local API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jpeval.judge import parse_score
from tests.fake_api import FakeAPI

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("評価：5", 1.0),
        ("理由：丁寧です。\n評価: 3", 0.5),
        ("評価：１", 0.0),  # full-width digit
        ("形式は「評価：N」です。……評価：4", 0.75),  # the last one counts
        ("とても良い", None),
        ("評価：6", None),  # outside the scale
        ("評価：3.5", None),  # not an integer
    ],
)
def test_parse_score(text: str, score: float | None) -> None:
    assert parse_score(text, (1, 5)) == score


TASK = """\
name: demo.judged
category: demo
version: 1
kind: generate
data: test.jsonl
prompt: "{{ question }}"
metrics: [exact_match]
generation: {max_tokens: 4}
judge:
  rubric: |-
    次の回答を1から5で評価し、最後に「評価：N」と書いてください。
    質問：{{ question }}
    模範解答：{{ references[0] }}
    回答：{{ answer }}
  scale: [1, 5]
"""


def _task(tmp: Path) -> Path:
    folder = tmp / "tasks" / "judged"
    folder.mkdir(parents=True)
    (folder / "task.yaml").write_text(TASK, encoding="utf-8")
    rows = [
        {"id": f"q{i}", "question": f"質問{i}", "answer": "はい", "rationale": "例"}
        for i in range(6)
    ]
    (folder / "test.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return folder


def _run(tmp: Path, out: Path, url: str) -> dict[str, Any]:
    cmd = [
        sys.executable, "-m", "jpeval.cli", "run", "--model", "random-baseline",
        "--include-path", str(tmp / "tasks"), "--tasks", "demo.judged", "--output", str(out),
        "--judge", f"openai:judge-model@{url}", "--model-args", "concurrency=2",
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, capture_output=True, cwd=ROOT, timeout=300, env={**os.environ, "OPENAI_API_KEY": "x"}
    )
    assert proc.returncode == 0, proc.stderr.decode()
    path = sorted((out / "random-baseline").glob("*.json"))[-1]  # the newest run
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_judged_run_records_scores_model_and_rubric(tmp_path: Path) -> None:
    _task(tmp_path)
    out = tmp_path / "results"
    api = FakeAPI(reply=lambda prompt: "よく書けています。\n評価：4")
    try:
        res = _run(tmp_path, out, api.url)
        first = len(api.answered)
        again = _run(tmp_path, out, api.url)  # judge requests come from the cache
    finally:
        api.close()
    task = res["tasks"]["demo.judged"]
    assert task["metrics"]["judge"]["mean"] == 0.75
    assert task["metric"] == "exact_match"  # the judge is reported beside the primary metric
    judge = res["judge"]
    assert judge["model"] == "judge-model" and judge["backend"] == "openai"
    assert set(judge["rubric_sha256"]) == {"demo.judged"} and judge["invalid"] == {"demo.judged": 0}
    assert first == judge["requests"] == 6
    assert len(api.answered) == first and again["judge"]["cached"] == 6
    samples = sorted((out / "random-baseline").rglob("demo.judged.jsonl"))[-1]
    rows = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    assert all(r["judgement"].endswith("評価：4") and r["scores"]["judge"] == 0.75 for r in rows)
    # the rubric saw the model's answer and the reference
    assert all("模範解答：はい" in p and "回答：" in p for p in api.answered)


def test_invalid_judgements_score_zero_and_are_counted(tmp_path: Path) -> None:
    _task(tmp_path)
    api = FakeAPI(reply=lambda prompt: "評価：9" if "質問1" in prompt else "評価：5")
    try:
        res = _run(tmp_path, tmp_path / "results", api.url)
    finally:
        api.close()
    assert res["judge"]["invalid"] == {"demo.judged": 1}
    assert res["tasks"]["demo.judged"]["metrics"]["judge"]["mean"] == pytest.approx(5 / 6)


def test_rubric_outside_generate_tasks_is_refused(tmp_path: Path) -> None:
    from jpeval.errors import ValidationError
    from jpeval.task import Task

    folder = _task(tmp_path)
    text = TASK.replace("kind: generate", "kind: multiple_choice\nchoices: options")
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="judge"):
        Task.load(folder)
