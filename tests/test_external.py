"""Loaders for public sets, run offline against stand-in files in the same layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from jpeval.errors import ValidationError
from jpeval.paths import tasks_dir
from jpeval.runner import RunConfig, run
from jpeval.task import Task

EXTERNAL = tasks_dir() / "external"


def test_jcommonsenseqa_maps_fields() -> None:
    task = Task.load(EXTERNAL / "jcommonsenseqa")
    first = task.items[0]
    assert first.id == "201" and first.fields["answer"] == 1
    assert first.fields["choices"] == ["定規", "消しゴム", "ホチキス", "のり", "はさみ"]
    assert len(task.shots) == 4 and {s.id for s in task.shots} <= {
        "101",
        "102",
        "103",
        "104",
        "105",
    }
    assert task.render(first) == "質問：字を消すのに使う文房具は？\n答え："


def test_jmmlu_reads_headerless_csv_with_letter_answers() -> None:
    task = Task.load(EXTERNAL / "jmmlu_japanese_history")
    assert [i.fields["answer"] for i in task.items] == [1, 2]  # B, C
    assert task.items[0].fields["choices"][1] == "足利尊氏"
    assert task.items[0].id == "train-1" and not task.shots


def test_jamcqa_asks_for_the_option_text() -> None:
    task = Task.load(EXTERNAL / "jamcqa")
    assert task.generative(chat=False)  # the published protocol: generate the option string
    item = task.items[0]
    assert task.target(item, True) == "市区町村役場"
    prompt = task.prompt(item, chat=False)
    assert isinstance(prompt, str)
    assert prompt.endswith("選択肢：市区町村役場、税務署、法務局、年金事務所\n答え：")
    assert prompt.count("答え：") == 5  # four examples from the dev split, then the item


def test_external_suite_runs_on_tiny_model(tiny_model: Path, tmp_path: Path) -> None:
    _, result, samples = run(RunConfig(model=f"hf:{tiny_model}", suite="external", output=tmp_path))
    assert set(result.tasks) == {
        "external.jcommonsenseqa",
        "external.jamcqa",
        "external.jmmlu_japanese_history",
        "external.jmmlu_japanese_civics",
        "external.jmmlu_japanese_geography",
        "external.jmmlu_japanese_idiom",
    }
    assert result.tasks["external.jamcqa"].mode == "generate"
    assert result.tasks["external.jcommonsenseqa"].mode == "loglikelihood"
    assert all(s.generation is not None for s in samples["external.jamcqa"])
    assert len(result.tasks["external.jcommonsenseqa"].data_sha256) == 64


def test_unreachable_dataset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPEVAL_HF_MIRROR")
    with pytest.raises(
        ValidationError, match=r"hf:sbintuitions/JCommonsenseQA\[validation\]: cannot load"
    ):
        Task.load(EXTERNAL / "jcommonsenseqa")
