"""Malformed task folders: each failure mode gives one clear error naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jpeval.errors import ValidationError
from jpeval.task import Task
from tests.conftest import make_task, mc_rows, run_cli


def _load_error(folder: Path) -> str:
    with pytest.raises(ValidationError) as e:
        Task.load(folder)
    return str(e.value)


def test_valid_task_loads(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.ok", mc_rows(5), dev=mc_rows(3, "d"))
    task = Task.load(folder)
    assert [i.id for i in task.items] == [f"q-{i:04d}" for i in range(5)]
    assert len(task.shots) == 2


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.bad", mc_rows(2))
    (folder / "task.yaml").write_text(
        "name: keigo.bad\ncategory: keigo\nprompt: [unclosed\nkind: generate\n"
    )
    msg = _load_error(folder)
    assert f"{folder / 'task.yaml'}:" in msg and "invalid YAML" in msg


def test_missing_and_unknown_fields(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.fields", mc_rows(2))
    text = (
        (folder / "task.yaml")
        .read_text()
        .replace("kind: multiple_choice\n", "kinds: multiple_choice\n")
    )
    (folder / "task.yaml").write_text(text)
    msg = _load_error(folder)
    assert "kind: required field is missing" in msg
    assert ":5: kinds: unknown field" in msg  # the line of the typo
    assert msg.startswith("2 problems found")


def test_line_that_is_not_json(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.json", mc_rows(3))
    lines = (folder / "test.jsonl").read_text().splitlines()
    lines[1] = lines[1][:-1]  # drop the closing brace
    (folder / "test.jsonl").write_text("\n".join(lines) + "\n")
    msg = _load_error(folder)
    assert f"{folder / 'test.jsonl'}:2: not valid JSON" in msg


def test_answer_index_out_of_range(tmp_path: Path) -> None:
    rows = mc_rows(3)
    rows[2]["answer"] = 7
    msg = _load_error(make_task(tmp_path, "keigo.range", rows))
    assert "test.jsonl:3: answer: index 7 is out of range for 4 options (0..3)" in msg


def test_answer_of_wrong_type(tmp_path: Path) -> None:
    rows = mc_rows(2)
    rows[0]["answer"] = "東京"
    msg = _load_error(make_task(tmp_path, "keigo.type", rows))
    assert "test.jsonl:1: answer: expected the index of the correct option (an integer)" in msg


def test_duplicate_ids(tmp_path: Path) -> None:
    rows = mc_rows(4)
    rows[3]["id"] = rows[1]["id"]
    msg = _load_error(make_task(tmp_path, "keigo.dup", rows))
    assert "test.jsonl:4: id: duplicate id 'q-0001' (first on line 2)" in msg


def test_missing_rationale_and_choices(tmp_path: Path) -> None:
    rows = mc_rows(2)
    del rows[0]["rationale"]
    rows[1]["choices"] = ["一つだけ"]
    msg = _load_error(make_task(tmp_path, "keigo.missing", rows))
    assert "test.jsonl:1: rationale: expected a non-empty string" in msg
    assert "test.jsonl:2: choices: expected a list of at least 2 non-empty strings" in msg


def test_template_field_missing_from_item(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.tmpl", mc_rows(2), prompt="{{ question }} {{ context }}")
    msg = _load_error(folder)
    assert (
        "test.jsonl:1: prompt: template uses a field this item lacks: 'context' is undefined" in msg
    )


def test_template_cannot_see_rationale(tmp_path: Path) -> None:
    msg = _load_error(make_task(tmp_path, "keigo.leak", mc_rows(1), prompt="{{ rationale }}"))
    assert "'rationale' is undefined" in msg


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ question.__class__.__base__.__subclasses__() }}",
        "{{ self._TemplateReference__context }}",
    ],
)
def test_template_injection_is_refused(tmp_path: Path, template: str) -> None:
    msg = _load_error(make_task(tmp_path, "keigo.inject", mc_rows(1), prompt=template))
    assert "prompt:" in msg


def test_template_syntax_error(tmp_path: Path) -> None:
    msg = _load_error(make_task(tmp_path, "keigo.syntax", mc_rows(1), prompt="{{ question "))
    assert "task.yaml:" in msg and "prompt: template syntax error" in msg


def test_data_file_missing_and_outside_folder(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.nodata", mc_rows(1), data="nope.jsonl")
    assert f"{folder / 'nope.jsonl'}: data file not found" in _load_error(folder)
    folder = make_task(tmp_path, "keigo.escape", mc_rows(1), data="../../etc/passwd")
    assert "data: '../../etc/passwd' must be a file inside the task folder" in _load_error(folder)


def test_non_utf8_bom_crlf(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.bytes", mc_rows(3))
    lines = [json.dumps(r, ensure_ascii=False) for r in mc_rows(3)]
    raw = (
        ("\ufeff" + lines[0] + "\r\n").encode()
        + b"\xff\xfe broken\r\n"
        + (lines[2] + "\r\n").encode()
    )
    (folder / "test.jsonl").write_bytes(raw)
    msg = _load_error(folder)
    assert "test.jsonl:2: not UTF-8" in msg and msg.startswith("1 problem found")


def test_fewshot_overlap_and_count(tmp_path: Path) -> None:
    folder = make_task(tmp_path, "keigo.shots", mc_rows(3), dev=mc_rows(1))
    spec = (folder / "task.yaml").read_text().replace("n: 1", "n: 2")
    (folder / "task.yaml").write_text(spec)
    msg = _load_error(folder)
    assert "dev.jsonl:1: id: id 'q-0000' is also a test item" in msg
    assert "fewshot.n: asks for 2 examples but dev.jsonl has 1" in msg


def test_generate_answer_must_be_text(tmp_path: Path) -> None:
    rows = [{"id": "a", "question": "q", "answer": 3, "rationale": "r"}]
    msg = _load_error(make_task(tmp_path, "admin.gen", rows, kind="generate"))
    assert "test.jsonl:1: answer: expected a reference answer" in msg


def test_cli_validate_reports_without_traceback(tmp_path: Path) -> None:
    rows = mc_rows(3)
    rows[0]["answer"] = 9
    rows[2]["id"] = rows[1]["id"]
    folder = make_task(tmp_path, "keigo.cli", rows)
    proc = run_cli("validate", str(folder), check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "2 problems found" in proc.stderr and "test.jsonl:1: answer" in proc.stderr


def test_new_task_skeleton_validates(tmp_path: Path) -> None:
    proc = run_cli("new-task", "culture.my_new_task", "--dir", str(tmp_path / "t"))
    assert "wrote" in proc.stdout
    ok = run_cli("validate", str(tmp_path / "t"))
    assert "culture.my_new_task v1: 2 items, 1 few-shot" in ok.stdout


def test_builtin_tasks_validate() -> None:
    proc = run_cli("validate", "tasks")
    assert "FAIL" not in proc.stderr


def test_entry_point_plugin_tasks_are_discovered(tmp_path: Path) -> None:
    """An installed package registers task folders under the `jpeval.tasks` entry point group."""
    site = tmp_path / "site"
    pkg = site / "jp_plugin"
    pkg.mkdir(parents=True)
    make_task(pkg / "tasks", "plugin.sample", mc_rows(3))
    code = (
        "from pathlib import Path\n\n"
        "def task_dirs():\n    return [Path(__file__).parent / 'tasks']\n"
    )
    (pkg / "__init__.py").write_text(code)
    dist = site / "jp_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: jp-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[jpeval.tasks]\nsample = jp_plugin:task_dirs\n")
    proc = run_cli("tasks", env={"PYTHONPATH": str(site)})
    assert "plugin.sample" in proc.stdout and "keigo.form_choice" in proc.stdout
