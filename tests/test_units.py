"""Small pieces on their own: normaliser, metrics, statistics, cache, keys, models."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jpeval.backends import cut_at_stop
from jpeval.cache import RequestCache
from jpeval.errors import JpevalError, ValidationError
from jpeval.metrics import (
    METRICS,
    ChoiceOutcome,
    TextOutcome,
    accuracy,
    accuracy_norm,
    argmax,
    char_f1,
    exact_match,
    extract_choice,
)
from jpeval.models import resolve_model
from jpeval.requests import Generate, Loglikelihood, Message, request_key
from jpeval.runner import load_suite
from jpeval.stats import bootstrap_ci, mean_stderr
from jpeval.text import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２０２３年", "2023年"),
        ("　令和　元年。", "令和 元年"),
        ("「昭和」", "昭和"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("ＡＢＣ！", "ABC"),
        ("答え\n\t二", "答え 二"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_choice_metrics() -> None:
    o = ChoiceOutcome(logprobs=[-3.0, -4.0, -9.0], choices=["あ", "いいいい", "う"], gold=1, pred=0)
    assert accuracy(o) == 0.0
    assert accuracy_norm(o) == 1.0  # -1/char beats -3/char
    assert argmax([-1.0, -1.0]) == 0  # ties go to the first
    generated = ChoiceOutcome(None, ["a", "b"], gold=1, pred=1)
    assert accuracy(generated) == accuracy_norm(generated) == 1.0
    assert accuracy(ChoiceOutcome(None, ["a", "b"], gold=1, pred=None)) == 0.0


def test_text_metrics() -> None:
    assert exact_match(TextOutcome("２０２３年。", ["2023年", "2023"])) == 1.0
    assert exact_match(TextOutcome("2024年", ["2023年"])) == 0.0
    assert char_f1(TextOutcome("2024年", ["2023年"])) == pytest.approx(0.8)
    assert char_f1(TextOutcome("", ["東京"])) == 0.0
    assert char_f1(TextOutcome("東京都", ["大阪", "東京"])) == pytest.approx(0.8)


def test_unknown_metric_suggests() -> None:
    with pytest.raises(JpevalError, match="Did you mean 'accuracy'"):
        METRICS.get("acuracy")


def test_mean_stderr_and_bootstrap() -> None:
    mean, se = mean_stderr([1, 0, 1, 1])
    assert mean == 0.75 and se == pytest.approx(0.25)
    assert mean_stderr([1.0]) == (1.0, 0.0)
    assert all(math.isnan(v) for v in mean_stderr([]))
    values = [1.0] * 30 + [0.0] * 70
    lo, hi = bootstrap_ci(values, seed=1)
    assert lo < 0.3 < hi and hi - lo < 0.25
    assert bootstrap_ci(values, seed=1) == (lo, hi)  # seeded


def test_request_keys() -> None:
    a = Loglikelihood("文脈", "続き")
    assert request_key(a) == request_key(Loglikelihood("文脈", "続き"))
    assert request_key(a) != request_key(Loglikelihood("文脈", "続"))
    assert request_key(a) != request_key(Loglikelihood((Message("user", "文脈"),), "続き"))
    assert request_key(Generate("p", 8, ("\n",))) != request_key(Generate("p", 9, ("\n",)))


def test_cut_at_stop() -> None:
    assert cut_at_stop("2019年\n次の質問", ["\n"]) == "2019年"
    assert cut_at_stop("abc", []) == "abc"
    assert cut_at_stop("a。b\nc", ["\n", "。"]) == "a"


def test_cache_roundtrip_and_isolation(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    c = RequestCache(db, "model-a")
    c.put_many({"k1": {"text": "東京"}, "k2": {"logprob": -1.5, "is_greedy": False, "n_tokens": 2}})
    assert c.get_many(["k1", "k2", "k3"]) == {
        "k1": {"text": "東京"},
        "k2": {"logprob": -1.5, "is_greedy": False, "n_tokens": 2},
    }
    c.close()
    assert RequestCache(db, "model-b").get_many(["k1"]) == {}  # another fingerprint sees nothing
    assert RequestCache(db, "model-a").count() == 2


def test_corrupt_cache_is_moved_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    c = RequestCache(db, "m")
    assert c.get_many(["x"]) == {}
    assert "unreadable" in capsys.readouterr().err
    assert list(tmp_path.glob("c.sqlite.corrupt-*"))


def test_resolve_model_forms(tmp_path: Path) -> None:
    assert resolve_model("gemma-3-270m").origin == "global"
    local = resolve_model(f"hf:{tmp_path}")
    assert local.backend == "hf" and local.model == str(tmp_path.resolve())
    hub = resolve_model("hf:llm-jp/llm-jp-3-13b-instruct")
    assert (
        hub.model == "llm-jp/llm-jp-3-13b-instruct" and hub.name == "llm-jp_llm-jp-3-13b-instruct"
    )
    api = resolve_model("openai:gpt-4o@https://api.example.com/v1")
    assert api.backend == "openai" and api.options["base_url"] == "https://api.example.com/v1"
    with pytest.raises(JpevalError, match="expected openai:MODEL@BASE_URL"):
        resolve_model("openai:gpt-4o")


def test_model_entry_errors_name_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("name: m\nmodel: x/y\norigin: japan\n")
    monkeypatch.setenv("JPEVAL_CONFIGS", str(tmp_path))
    with pytest.raises(
        ValidationError,
        match=r"m.yaml:3: origin: Input should be 'domestic', 'global' or 'unknown'",
    ):
        resolve_model("m")


def test_quick_suite_exists() -> None:
    suite = load_suite("quick")
    assert {t.split(".")[0] for t in suite.tasks} == {"keigo", "culture", "admin"}
    with pytest.raises(JpevalError, match="Did you mean 'quick'"):
        load_suite("quik")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", 1),
        ("（C）です。", 2),
        ("答え：Ｄ", 3),
        ("正解はAです。", 0),
        ("大阪", 1),  # the option's text alone
        ("AかBのどちらか", None),  # two labels: no answer
        ("わかりません", None),
        ("E", None),  # not an option here
    ],
)
def test_extract_choice_by_label(text: str, expected: int | None) -> None:
    assert extract_choice(text, ["東京", "大阪", "京都", "名古屋"], "label") == expected


def test_extract_choice_by_text() -> None:
    options = ["東京", "大阪", "京都"]
    assert extract_choice(" 京都。", options, "text") == 2
    assert extract_choice("答えは京都", options, "text") is None  # JamC-QA: the exact option string
