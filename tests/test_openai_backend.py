"""The openai backend: against a real OpenAI-compatible server (`transformers serve` with the tiny
model on 127.0.0.1), against a local server that fails with 429/500 for a while, a killed run
resumed from the cache, and the API key never written anywhere."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jpeval.requests import Generate, Message
from tests.fake_api import FakeAPI

ROOT = Path(__file__).resolve().parents[1]
JPEVAL = [sys.executable, "-m", "jpeval.cli"]
KEY = "sk-jpeval-test-PLANTED-7f3a9c"  # must never appear in any output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def served(tiny_chat_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`transformers serve` with the tiny chat model; yields the base URL."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    exe = Path(sys.executable).with_name("transformers")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "serve", str(tiny_chat_model), "--host", "127.0.0.1", "--port", str(port),
             "--device", "cpu", "--dtype", "float32"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/health", 90)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


PROMPTS = ["敬語", "令和元年は", "東京は日本の", "お客様が", "質問：次のうち"]


def test_same_generations_as_hf(served: str, tiny_chat_model: Path) -> None:
    from jpeval.backends.hf import HFBackend
    from jpeval.backends.openai import OpenAIBackend

    hf = HFBackend(str(tiny_chat_model), dtype="float32")
    chat = [Generate((Message("user", p),), max_tokens=12) for p in PROMPTS]
    plain = [Generate(p, max_tokens=12, stop=("。",)) for p in PROMPTS]
    api_chat = OpenAIBackend(str(tiny_chat_model), served, concurrency=3)
    api_plain = OpenAIBackend(str(tiny_chat_model), served, endpoint="completions")
    assert api_chat.generate(chat) == hf.generate(chat)
    assert api_plain.generate(plain) == hf.generate(plain)
    assert api_chat.usage["requests"] == len(PROMPTS)
    assert api_chat.usage["completion_tokens"] > 0


def test_chat_endpoint_refuses_loglikelihood_clearly(served: str) -> None:
    from jpeval.backends.openai import OpenAIBackend
    from jpeval.errors import JpevalError
    from jpeval.requests import Loglikelihood

    with pytest.raises(JpevalError, match="echo_logprobs"):
        OpenAIBackend("m", served).loglikelihood([Loglikelihood("a", "b")])


def test_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from jpeval.backends.openai import OpenAIBackend
    from jpeval.errors import JpevalError

    monkeypatch.delenv("JPEVAL_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(JpevalError, match="JPEVAL_TEST_NO_SUCH_KEY"):
        OpenAIBackend("m", "http://127.0.0.1:9/v1", api_key_env="JPEVAL_TEST_NO_SUCH_KEY")


# ---- a local server that fails, hangs or answers (tests/fake_api.py) ----------------------


def _run(
    url: str, out: Path, *extra: str, limit: int = 12
) -> subprocess.Popen[bytes] | subprocess.CompletedProcess[bytes]:
    cmd = [
        *JPEVAL, "run", "--model", f"openai:fake-model@{url}", "--tasks", "culture.seasons",
        "--limit", str(limit), "--output", str(out),
        "--model-args", "concurrency=2,max_retries=6,timeout=30", *extra,
    ]  # fmt: skip
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    return subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=300)


def _results(out: Path) -> dict[str, Any]:
    [path] = (out / "fake-model").glob("*.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _outputs(out: Path) -> list[str]:
    return [p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()]


def test_faults_are_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    api = FakeAPI(failures=2)
    try:
        proc = _run(api.url, tmp_path)
    finally:
        api.close()
    assert proc.returncode == 0, proc.stderr.decode()
    res = _results(tmp_path)
    [task] = res["tasks"].values()
    assert task["mode"] == "generate" and task["n"] == 12
    assert res["requests"]["computed"] == 12
    assert res["requests"]["usage"] == {
        "prompt_tokens": 120,
        "completion_tokens": 36,
        "requests": 12,
    }
    assert sum(api.errors.values()) == 24 and len(api.answered) == 12  # every prompt: 429, 500, ok
    assert api.auth == {f"Bearer {KEY}"}  # the key was sent …
    board = subprocess.run(
        [*JPEVAL, "leaderboard", str(tmp_path), "--output", str(tmp_path / "board")],
        capture_output=True,
        timeout=120,
    )
    assert board.returncode == 0, board.stderr.decode()
    assert (tmp_path / "board" / "leaderboard.html").is_file()
    for text in [*_outputs(tmp_path), proc.stdout.decode(), proc.stderr.decode()]:
        assert KEY not in text  # … and never written


def test_error_message_never_shows_the_key(tmp_path: Path) -> None:
    api = FakeAPI(failures=100)  # never succeeds
    try:
        proc = _run(api.url, tmp_path, "--model-args", "concurrency=1,max_retries=1,timeout=5")
    finally:
        api.close()
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert "API request failed" in err and "HTTP" in err and "Traceback" not in err
    assert KEY not in err + proc.stdout.decode()


def test_killed_api_run_resumes_without_resending(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    api = FakeAPI(hang_after=10)
    cmd = [
        *JPEVAL, "run", "--model", f"openai:fake-model@{api.url}", "--tasks", "culture.seasons",
        "--limit", "24", "--output", str(out), "--model-args", "concurrency=2,timeout=120",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "OPENAI_API_KEY": KEY}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while len(api.answered) < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the first chunk (8 requests) is written to the cache
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = list(api.answered)
        api.hang_after = None
        rerun = subprocess.run(
            cmd, env={**os.environ, "OPENAI_API_KEY": KEY}, cwd=ROOT, capture_output=True,
            timeout=300,
        )  # fmt: skip
    finally:
        api.close()
    assert rerun.returncode == 0, rerun.stderr.decode()
    res = _results(out)
    resent = api.answered[len(first) :]
    assert res["requests"]["cached"] >= 8
    assert len(resent) == res["requests"]["computed"] == 24 - res["requests"]["cached"]
    cached_prompts = set(first) - set(resent)
    assert len(cached_prompts) == res["requests"]["cached"]  # none of those was asked again
    # the resumed run equals one that was never interrupted
    fresh = tmp_path / "fresh"
    api2 = FakeAPI()
    try:
        again = _run(api2.url, fresh, limit=24)
    finally:
        api2.close()
    assert again.returncode == 0
    name = "culture.seasons"
    assert _results(fresh)["tasks"][name]["item_scores"] == res["tasks"][name]["item_scores"]
