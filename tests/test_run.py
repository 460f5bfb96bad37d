"""End-to-end runs on the tiny model: results, samples, provenance, cache and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jpeval.results import RunResult, Sample
from jpeval.runner import RunConfig, run
from tests.conftest import ROOT, gen_rows, make_task, mc_rows, run_cli


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    root = tmp_path / "tasks"
    make_task(root, "keigo.mini", mc_rows(12), dev=mc_rows(3, "d"))
    make_task(
        root,
        "admin.mini_gen",
        gen_rows(6),
        dev=gen_rows(2, "d"),
        kind="generate",
        generation={"max_tokens": 6, "stop": ["\n"]},
    )
    return root


def _cfg(model: Path, task_dir: Path, out: Path, **kw: object) -> RunConfig:
    base: dict[str, object] = {
        "model": f"hf:{model}",
        "tasks": ("keigo.mini", "admin.mini_gen"),
        "include": (task_dir,),
        "output": out,
    }
    base.update(kw)
    return RunConfig(**base)  # type: ignore[arg-type]


def test_run_writes_results_and_samples(tiny_model: Path, task_dir: Path, tmp_path: Path) -> None:
    path, result, _ = run(_cfg(tiny_model, task_dir, tmp_path / "out"))
    assert path.parent.parent == tmp_path / "out"
    on_disk = RunResult.model_validate_json(path.read_text())
    assert on_disk == result
    assert set(result.tasks) == {"keigo.mini", "admin.mini_gen"}
    mc, gen = result.tasks["keigo.mini"], result.tasks["admin.mini_gen"]
    assert (mc.n, mc.metric, gen.n, gen.metric) == (12, "accuracy", 6, "exact_match")
    assert 0 <= mc.score <= 1 and mc.ci95[0] <= mc.score <= mc.ci95[1]
    assert result.categories["keigo"].score == mc.score
    assert result.requests.total == sum(2 + i % 3 for i in range(12)) + 6
    assert result.requests.cached == 0 and result.requests.computed == result.requests.unique
    prov = result.provenance
    assert prov.libraries["torch"] and prov.libraries["transformers"] and prov.normalizer_version
    assert result.model.fingerprint["revision"].startswith("sha256:")
    assert len(mc.data_sha256) == 64 and len(mc.prompt_sha256) == 64 and len(mc.fewshot_ids) == 2
    rows = [
        Sample.model_validate_json(line)
        for line in (path.parent / mc.samples_file).read_text().splitlines()
    ]
    assert [r.id for r in rows] == [f"q-{i:04d}" for i in range(12)]
    assert all(len(r.loglikelihoods or []) == len(r.choices or []) for r in rows)
    assert sum(r.scores["accuracy"] for r in rows) / 12 == pytest.approx(mc.score)
    first = rows[0]
    assert isinstance(first.prompt, str) and first.prompt.endswith(
        "質問：日本の首都は（0）\n答え："
    )
    assert first.prompt.count("質問：") == 3  # two few-shot examples, then the item


def test_second_run_is_served_from_cache_with_identical_results(
    tiny_model: Path, task_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    p1, r1, s1 = run(_cfg(tiny_model, task_dir, out))
    p2, r2, s2 = run(_cfg(tiny_model, task_dir, out))
    assert p1 != p2 and p1.exists() and p2.exists()  # two runs never overwrite each other
    assert r2.requests.cached == r2.requests.unique and r2.requests.computed == 0
    assert s1 == s2
    assert {k: v.model_dump() for k, v in r1.tasks.items()} == {
        k: v.model_dump(exclude={"samples_file"}) | {"samples_file": r1.tasks[k].samples_file}
        for k, v in r2.tasks.items()
    }


def test_batch_size_does_not_change_predictions(
    tiny_model: Path, task_dir: Path, tmp_path: Path
) -> None:
    _, _, a = run(_cfg(tiny_model, task_dir, tmp_path / "a", batch_size=1, use_cache=False))
    _, _, b = run(_cfg(tiny_model, task_dir, tmp_path / "b", batch_size=16, use_cache=False))
    for task in a:
        assert [s.prediction for s in a[task]] == [s.prediction for s in b[task]]


def test_dedupe_identical_requests(tiny_model: Path, tmp_path: Path) -> None:
    rows = mc_rows(4)
    rows[3] = {**rows[0], "id": "copy"}
    make_task(tmp_path / "t", "keigo.dupe", rows)
    _, result, _ = run(
        RunConfig(
            model=f"hf:{tiny_model}",
            tasks=("keigo.dupe",),
            include=(tmp_path / "t",),
            output=tmp_path / "o",
        )
    )
    assert result.requests.total == result.requests.unique + len(rows[0]["choices"])  # type: ignore[arg-type]


def test_chat_policy(tiny_chat_model: Path, tmp_path: Path) -> None:
    make_task(tmp_path / "t", "ut.chat", mc_rows(3), dev=mc_rows(2, "d"))
    make_task(tmp_path / "t", "ut.plain", mc_rows(3), chat="never")
    _, result, samples = run(
        RunConfig(
            model=f"hf:{tiny_chat_model}",
            tasks=("ut.*",),
            include=(tmp_path / "t",),
            output=tmp_path / "o",
        )
    )
    assert result.tasks["ut.chat"].chat and not result.tasks["ut.plain"].chat
    msgs = samples["ut.chat"][0].prompt
    assert isinstance(msgs, list) and [m["role"] for m in msgs] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert isinstance(samples["ut.plain"][0].prompt, str)


def test_cli_run_prints_table(tiny_model: Path, task_dir: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "run",
        "--model",
        f"hf:{tiny_model}",
        "--tasks",
        "keigo.mini",
        "--include-path",
        str(task_dir),
        "--limit",
        "5",
        "--output",
        str(tmp_path / "out"),
    )
    assert "keigo.mini" in proc.stdout and "accuracy" in proc.stdout and "results:" in proc.stdout
    result = RunResult.model_validate_json(next((tmp_path / "out").glob("*/*.json")).read_text())
    assert result.tasks["keigo.mini"].n == 5 and result.provenance.limit == 5


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    proc = run_cli("run", "--model", "gema-3-270m", "--output", str(tmp_path), check=False)
    assert (
        proc.returncode == 2
        and "unknown model 'gema-3-270m'. Did you mean 'gemma-3-270m'" in proc.stderr
    )
    proc = run_cli(
        "run",
        "--model",
        "hf:/nonexistent",
        "--tasks",
        "keigo.nope",
        "--output",
        str(tmp_path),
        check=False,
    )
    assert proc.returncode == 2 and "no task matches 'keigo.nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from jpeval.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['run', '--help'], ['tasks', '--help']):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "bad = [m for m in ('torch', 'transformers', 'vllm') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _cache_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT count(*) FROM results").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_kill_and_resume(tiny_model: Path, tmp_path: Path) -> None:
    """SIGKILL mid-run, run again: nothing finished is recomputed and the scores are identical."""
    make_task(
        tmp_path / "t",
        "admin.long_gen",
        gen_rows(160),
        kind="generate",
        generation={"max_tokens": 24, "stop": []},
    )
    out = tmp_path / "out"
    args = [
        "run",
        "--model",
        f"hf:{tiny_model}",
        "--tasks",
        "admin.long_gen",
        "--include-path",
        str(tmp_path / "t"),
        "--batch-size",
        "2",
        "--output",
        str(out),
    ]
    exe = str(Path(sys.executable).parent / "jpeval")
    cache = out / ".cache" / f"{tiny_model.as_posix().strip('/').replace('/', '_')}.sqlite"
    proc = subprocess.Popen(
        [exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ
    )
    deadline = time.time() + 120
    while _cache_rows(cache) < 16 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = _cache_rows(cache)
    assert 16 <= finished < 160, f"kill landed outside the run ({finished} finished)"
    assert not list(out.glob("*/*.json")), "a killed run must not leave a results file"

    run_cli(*args)
    resumed = RunResult.model_validate_json(next(out.glob("*/*.json")).read_text())
    assert resumed.requests.cached == finished
    assert resumed.requests.computed == 160 - finished

    run_cli(*args[:-1], str(tmp_path / "fresh"), "--no-cache")
    fresh_path = next((tmp_path / "fresh").glob("*/*.json"))
    fresh = RunResult.model_validate_json(fresh_path.read_text())
    assert {k: (v.score, v.stderr, v.ci95) for k, v in fresh.tasks.items()} == {
        k: (v.score, v.stderr, v.ci95) for k, v in resumed.tasks.items()
    }

    def generations(path: Path, result: RunResult) -> list[str]:
        lines = (path.parent / result.tasks["admin.long_gen"].samples_file).read_text().splitlines()
        return [json.loads(line)["generation"] for line in lines]

    assert generations(fresh_path, fresh) == generations(next(out.glob("*/*.json")), resumed)


def test_python_dash_m_jpeval_is_the_command(tmp_path: Path) -> None:
    """`python -m jpeval` (where no script is on PATH, e.g. a GPU image) runs the CLI and passes
    its exit status on."""
    ok = subprocess.run(
        [sys.executable, "-m", "jpeval", "tasks"], capture_output=True, text=True, cwd=ROOT
    )
    assert ok.returncode == 0 and "keigo.form_choice" in ok.stdout, ok.stderr
    argv = ["run", "--model", "random-baseline", "--tasks", "no.such_task"]
    argv += ["--output", str(tmp_path)]
    bad = subprocess.run(
        [sys.executable, "-m", "jpeval", *argv], capture_output=True, text=True, cwd=ROOT
    )
    assert bad.returncode == 2 and "no task matches 'no.such_task'" in bad.stderr
