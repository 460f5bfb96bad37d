"""Malformed inputs of every kind give a clear error naming the file (and line), never a
traceback: task folders, JSONL items, results files."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jpeval.errors import JpevalError, ValidationError
from jpeval.leaderboard.aggregate import load_runs
from jpeval.task import Task, read_jsonl
from tests.conftest import make_task, mc_rows

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(raw=st.binary(max_size=400))
def test_jsonl_reader_never_crashes(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(raw)
    _, problems = read_jsonl(path)
    for p in problems:
        assert p.file == str(path) and p.message


@SETTINGS
@given(
    item=st.dictionaries(
        st.sampled_from(["id", "question", "choices", "answer", "rationale", "x"]), JSON_VALUES
    )
)
def test_any_item_is_loaded_or_reported(tmp_path_factory, item: dict) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("t")
    rows = [*mc_rows(2), item]
    folder = make_task(root, "keigo.fuzz", rows)
    try:
        task = Task.load(folder)
    except ValidationError as e:
        assert all(p.file.endswith(("test.jsonl", "task.yaml")) for p in e.problems)
        assert any(p.line == 3 for p in e.problems) or "test.jsonl" not in str(e)
    else:
        assert len(task.items) == 3


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_task_yaml_is_loaded_or_reported(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    folder = make_task(tmp_path_factory.mktemp("t"), "keigo.yaml_fuzz", mc_rows(2))
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    try:
        Task.load(folder)
    except JpevalError as e:
        assert "task.yaml" in str(e)


@SETTINGS
@given(data=JSON_VALUES)
def test_any_results_file_is_loaded_or_reported(tmp_path_factory, data: object) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("r") / "run.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        load_runs([path])
    except ValidationError as e:
        assert all(p.file == str(path) for p in e.problems)


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_leaderboard_config_is_loaded_or_reported(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    from jpeval.leaderboard.config import load_config

    path = tmp_path_factory.mktemp("lb") / "leaderboard.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except JpevalError as e:
        assert str(path) in str(e)


GOOD_LINE = json.dumps(mc_rows(1, prefix="m")[0], ensure_ascii=False)
# How a JSONL line gets damaged on its way through editors and spreadsheets.
DAMAGE = [
    lambda s: "\ufeff" + s,  # BOM
    lambda s: s + "\r",  # CRLF
    lambda s: s.replace('"answer": 0', '"answer": "０"'),  # a full-width digit
    lambda s: s.replace('"answer": 0', '"answer": "0"'),  # a number as a string
    lambda s: s.replace(", ", ",\u3000"),  # full-width spaces between fields
    lambda s: s[: len(s) // 2],  # cut short
    lambda s: "",  # empty
    lambda s: s[:-1] + ', "pad": "' + "あ" * 1_000_000 + '"}',  # a huge line
    lambda s: s.encode("utf-8").decode("latin-1"),  # mojibake
]


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(st.sampled_from(range(len(DAMAGE))), min_size=1, max_size=3),
    at=st.integers(0, 2),
    raw_tail=st.binary(max_size=8),
)
def test_damaged_jsonl_is_loaded_or_reported(tmp_path_factory, ops, at, raw_tail) -> None:  # type: ignore[no-untyped-def]
    rows = [json.dumps(r, ensure_ascii=False) for r in mc_rows(3)]
    line = GOOD_LINE
    for op in ops:
        line = DAMAGE[op](line)
    rows.insert(at, line)
    folder = make_task(tmp_path_factory.mktemp("d"), "keigo.damaged", mc_rows(1))
    data = ("\n".join(rows) + "\n").encode("utf-8", "surrogatepass") + raw_tail
    (folder / "test.jsonl").write_bytes(data)
    try:
        Task.load(folder)
    except ValidationError as e:
        assert all(p.file.endswith("test.jsonl") and p.message for p in e.problems)


def test_task_folder_code_is_never_run(tmp_path: Path) -> None:
    """A downloaded task folder may carry Python; loading and running the task never imports it."""
    from jpeval.runner import RunConfig, run

    folder = make_task(tmp_path / "tasks", "keigo.untrusted", mc_rows(3))
    marker = tmp_path / "pwned"
    code = f"open({str(marker)!r}, 'w').write('ran')\n"
    for name in ("scorer.py", "__init__.py", "metrics.py", "conftest.py"):
        (folder / name).write_text(code, encoding="utf-8")
    Task.load(folder)
    cfg = RunConfig(
        model="random-baseline", tasks=("keigo.untrusted",), include=(tmp_path / "tasks",),
        output=tmp_path / "out",
    )  # fmt: skip
    run(cfg)
    assert not marker.exists()
