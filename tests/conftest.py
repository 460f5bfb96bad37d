from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from jpeval.paths import cache_dir
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, request_key
from tests.tiny_model import CHAT_TEMPLATE, build_tiny_model

ROOT = Path(__file__).resolve().parent.parent
HF_FIXTURES = ROOT / "tests" / "fixtures" / "hf"
USER_CACHE = cache_dir()  # before the per-test override below: shared with `make eval`


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prepared models go to the shared cache only in the default-model tests."""
    if "JPEVAL_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("JPEVAL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "jpeval-cache"))
    # Public sets load from small local stand-ins; nothing touches the network.
    monkeypatch.setenv("JPEVAL_HF_MIRROR", str(HF_FIXTURES))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path_factory.getbasetemp() / "hf-datasets"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-chat") / "model", CHAT_TEMPLATE)


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def make_task(
    root: Path,
    name: str,
    rows: list[dict[str, object]],
    dev: list[dict[str, object]] | None = None,
    **spec: object,
) -> Path:
    """Write a task folder under ``root`` from a few fields; returns the folder."""
    import yaml

    category = name.split(".")[0]
    folder = root / name.replace(".", "_")
    folder.mkdir(parents=True)
    kind = spec.pop("kind", "multiple_choice")
    body: dict[str, object] = {
        "name": name,
        "category": category,
        "version": 1,
        "data": "test.jsonl",
        "kind": kind,
        "prompt": "質問：{{ question }}\n答え：",
        "answer": "answer",
    }
    if kind == "multiple_choice":
        body["choices"] = "choices"
    if dev is not None:
        write_jsonl(folder / "dev.jsonl", dev)
        body["fewshot"] = {"n": min(2, len(dev)), "from": "dev.jsonl", "seed": 7}
    body.update(spec)
    (folder / "task.yaml").write_text(
        yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    write_jsonl(folder / "test.jsonl", rows)
    return folder


def mc_rows(n: int, prefix: str = "q") -> list[dict[str, object]]:
    stems = [
        "日本の首都は",
        "敬語で「言う」の尊敬語は",
        "令和元年は西暦",
        "節分にまくものは",
        "富士山の高さは",
    ]
    options = [
        ["東京", "大阪", "京都", "名古屋"],
        ["おっしゃる", "申す", "申し上げる", "言われる"],
        ["2019年", "1989年", "2000年", "2020年"],
        ["豆", "米", "塩", "花びら"],
        ["3776メートル", "2000メートル", "1000メートル", "5000メートル"],
    ]
    rows = []
    for i in range(n):
        k = i % len(stems)
        rows.append(
            {
                "id": f"{prefix}-{i:04d}",
                "question": f"{stems[k]}（{i}）",
                "choices": options[k][: 2 + i % 3],
                "answer": i % 2,
                "rationale": "テスト用の項目。",
            }
        )
    return rows


def gen_rows(n: int, prefix: str = "g") -> list[dict[str, object]]:
    return [
        {
            "id": f"{prefix}-{i:04d}",
            "question": f"（{i}）令和{i % 9 + 1}年は西暦何年ですか。",
            "answer": [f"{2018 + i % 9 + 1}年", str(2018 + i % 9 + 1)],
            "rationale": "令和元年は2019年。",
        }
        for i in range(n)
    ]


def run_cli(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("jpeval", path=str(Path(sys.executable).parent)) or "jpeval"
    proc = subprocess.run(
        [exe, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"jpeval {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


class ScriptedBackend:
    """Answers from a table: the oracle knows every gold answer; the constant one picks option A."""

    name = "scripted"
    chunk_size = None

    def __init__(self, gold: dict[str, str], chat: bool, oracle: bool, skill: int = 100) -> None:
        self.gold, self.has_chat_template, self.oracle, self.skill = gold, chat, oracle, skill

    def _knows(self, key: str) -> bool:
        """A deterministic share (``skill`` %) of items is answered right."""
        return self.oracle and int(key[:8], 16) % 100 < self.skill

    def loglikelihood(self, requests: Sequence[Loglikelihood]) -> list[LoglikelihoodResult]:
        out = []
        for r in requests:
            key = request_key(Loglikelihood(r.context, ""))
            right = self.gold.get(key) == r.continuation
            good = not self.oracle or right == self._knows(key)  # constant: all equal, picks A
            out.append(LoglikelihoodResult(0.0 if good else -5.0, True, 1))
        return out

    def generate(self, requests: Sequence[Generate]) -> list[str]:
        keys = [request_key(Loglikelihood(r.prompt, "")) for r in requests]
        return [self.gold[k] if self._knows(k) else "A" for k in keys]

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": self.name, "oracle": self.oracle, "skill": self.skill}
