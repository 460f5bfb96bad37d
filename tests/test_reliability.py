"""Faults and hostile input: runs killed at 20 points, concurrent runs, hostile model output,
and reproducibility across repeated runs and batch sizes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult
from jpeval.runner import RunConfig, run
from tests.fake_api import FakeAPI

ROOT = Path(__file__).resolve().parents[1]
TASK = "culture.seasons"
N_ITEMS = 24  # concurrency 1 -> the openai backend caches every 4 answers


def _cmd(url: str, out: Path, model: str = "fake-model") -> list[str]:
    return [
        sys.executable, "-m", "jpeval.cli", "run", "--model", f"openai:{model}@{url}",
        "--tasks", TASK, "--limit", str(N_ITEMS), "--output", str(out),
        "--model-args", "concurrency=1,timeout=60",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": "x"}


def _latest(out: Path, model: str = "fake-model") -> dict[str, Any]:
    path = sorted((out / model).glob("*.json"))[-1]
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_killed_at_twenty_points_always_resumes_to_the_same_results(tmp_path: Path) -> None:
    api = FakeAPI()
    try:
        clean = subprocess.run(_cmd(api.url, tmp_path / "clean"), env=_env(), timeout=120)
        assert clean.returncode == 0
        want = _latest(tmp_path / "clean")["tasks"][TASK]["item_scores"]
        for point in range(1, 21):  # killed before the answer to request `point` (0-based)
            out = tmp_path / f"kill-{point}"
            holder: dict[str, subprocess.Popen[bytes]] = {}

            def kill(n: int, point: int = point, holder: dict = holder) -> bool:
                if n == point:
                    holder["proc"].send_signal(signal.SIGKILL)
                    return True  # never answered: the client is gone
                return False

            api.answered.clear()
            api.before_answer = kill
            holder["proc"] = subprocess.Popen(
                _cmd(api.url, out), env=_env(), stderr=subprocess.DEVNULL
            )
            assert holder["proc"].wait(120) == -signal.SIGKILL
            first = list(api.answered)
            assert len(first) == point
            api.before_answer = None
            rerun = subprocess.run(_cmd(api.url, out), env=_env(), capture_output=True, timeout=120)
            assert rerun.returncode == 0, rerun.stderr.decode()
            res = _latest(out)
            cached = res["requests"]["cached"]
            assert cached == point // 4 * 4  # every finished chunk was kept
            resent = api.answered[point:]
            assert len(resent) == res["requests"]["computed"] == N_ITEMS - cached
            assert not set(first[:cached]) & set(resent)  # nothing cached was asked again
            assert res["tasks"][TASK]["item_scores"] == want
            assert len(list((out / "fake-model").glob("*.json"))) == 1  # no partial results file
    finally:
        api.close()


def test_concurrent_runs_share_a_results_folder_and_a_cache(tmp_path: Path) -> None:
    api = FakeAPI()
    out = tmp_path / "results"
    try:
        procs = [
            subprocess.Popen(_cmd(api.url, out, model), env=_env(), stderr=subprocess.PIPE)
            for model in ("model-a", "model-b", "model-a")  # two runs of model-a share a cache
        ]
        errors = [p.communicate(timeout=180)[1].decode() for p in procs]
        asked = len(api.answered)
        # the shared cache holds every request: a further run asks the server nothing
        again = subprocess.run(_cmd(api.url, out, "model-a"), env=_env(), timeout=120)
        assert again.returncode == 0 and len(api.answered) == asked
    finally:
        api.close()
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    runs = {m: sorted((out / m).glob("*.json")) for m in ("model-a", "model-b")}
    assert len(runs["model-a"]) == 3 and len(runs["model-b"]) == 1
    scores = [json.loads(p.read_text())["tasks"][TASK]["item_scores"] for p in runs["model-a"]]
    assert scores[0] == scores[1] == scores[2]
    assert _latest(out, "model-a")["requests"]["cached"] == N_ITEMS


# ---- hostile model output ----------------------------------------------------------------

HOSTILE = [
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "\x00\x07\x1b[31m赤\x1b[0m\r\u202e\ufeff",
    "\ud800 lone surrogate \udfff",
    "答え：" + "あ" * 10_000_000,  # 10 million characters (30 MB of UTF-8)
]


class HostileBackend:
    name = "hostile"
    has_chat_template = True
    chunk_size = None

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        return [LoglikelihoodResult(-1.0, False, 1) for _ in requests]

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        return [HOSTILE[i % len(HOSTILE)] for i in range(len(requests))]

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": self.name}


def test_hostile_output_is_stored_exactly_and_scored(tmp_path: Path) -> None:
    cfg = RunConfig(
        model="random-baseline",
        tasks=(TASK, "admin.wareki_year"),
        limit=8,
        output=tmp_path,
        use_cache=False,
    )
    path, result, _ = run(cfg, backend=HostileBackend())  # type: ignore[arg-type]
    assert json.loads(path.read_text(encoding="utf-8"))["tasks"].keys() == {
        TASK,
        "admin.wareki_year",
    }
    for task in result.tasks:
        lines = (path.parent / result.run_id / "samples" / f"{task}.jsonl").read_bytes()
        rows = [json.loads(line) for line in lines.decode("utf-8").splitlines()]
        assert [r["generation"] for r in rows] == [HOSTILE[i % 4] for i in range(8)]
        assert all(0.0 <= v <= 1.0 for r in rows for v in r["scores"].values())


def test_hostile_names_are_escaped_in_the_leaderboard(tmp_path: Path) -> None:
    from jpeval.runner import RunConfig

    cfg = RunConfig(model="random-baseline", tasks=(TASK,), limit=4, output=tmp_path)
    path, _, _ = run(cfg, backend=HostileBackend())  # type: ignore[arg-type]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["model"]["display_name"] = HOSTILE[0]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jpeval.cli",
            "leaderboard",
            str(tmp_path),
            "--output",
            str(tmp_path),
        ],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    html = (tmp_path / "leaderboard.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", ""
    )


# ---- reproducibility -----------------------------------------------------------------------

VOLATILE = {"run_id", "started_at", "finished_at", "timings", "samples_file", "command"}


def _stable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


@pytest.mark.parametrize("tasks", [("keigo.form_choice", "admin.wareki_year")])
def test_same_seed_same_results_and_batch_size_changes_no_prediction(
    tiny_chat_model: Path, tmp_path: Path, tasks: tuple[str, ...]
) -> None:
    def one(out: str, batch: int) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        cfg = RunConfig(
            model=f"hf:{tiny_chat_model}",
            tasks=tasks,
            limit=12,
            batch_size=batch,
            output=tmp_path / out,
            use_cache=False,
            model_args={"dtype": "float32"},
        )
        path, _, samples = run(cfg)
        preds = {t: [(s.pred_index, s.generation) for s in rows] for t, rows in samples.items()}
        return json.loads(path.read_text(encoding="utf-8")), preds

    a, preds_a = one("a", 16)
    b, _ = one("b", 16)
    assert _stable(a) == _stable(b)  # identical apart from ids, timestamps and timings
    _, preds_1 = one("c", 1)
    assert preds_1 == preds_a
