"""`jpeval contamination`: items whose character 13-grams occur in a corpus are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jpeval.cli import main
from jpeval.contamination import item_text, scan
from jpeval.task import Task
from tests.conftest import make_task, mc_rows


@pytest.fixture
def task(tmp_path: Path) -> Task:
    return Task.load(make_task(tmp_path / "tasks", "keigo.leak", mc_rows(5)))


def test_copied_item_is_found_whatever_its_spacing_and_width(task: Task, tmp_path: Path) -> None:
    leaked = task.items[2]
    text = item_text(task, leaked)
    # the item as a web page might hold it: full-width, spaced out, broken over lines
    mangled = "\n".join(" ".join(part) for part in (text[:9], text[9:]))
    mangled = mangled.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    corpus = tmp_path / "crawl.txt"
    corpus.write_bytes(
        "関係のない文章です。\n".encode() + mangled.encode() + b"\n\xff\xfe broken bytes\n"
    )
    hits = scan([task], [corpus])
    assert [h.id for h in hits] == [leaked.id]
    assert hits[0].ratio == 1.0


def test_partial_overlap_is_a_share(task: Task, tmp_path: Path) -> None:
    text = item_text(task, task.items[0])
    corpus = tmp_path / "c.txt"
    corpus.write_text(text[:14], encoding="utf-8")  # two of its 13-grams
    [hit] = [h for h in scan([task], [corpus]) if h.id == task.items[0].id]
    assert 0 < hit.ratio < 1


def test_cli_writes_a_report_and_names_a_missing_corpus(
    task: Task, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text(item_text(task, task.items[1]), encoding="utf-8")
    out = tmp_path / "report.json"
    args = ["contamination", "--include-path", str(tmp_path / "tasks"), "--tasks", "keigo.leak"]
    assert main([*args, "--corpus", str(corpus), "--output", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [i["id"] for i in report["items"]] == [task.items[1].id]
    assert report["tasks"]["keigo.leak"]["items"] == 5
    assert "1 of 5 items" in capsys.readouterr().out
    assert main([*args, "--corpus", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err
