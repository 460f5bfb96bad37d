"""The keigo analyser: labelled sentences (precision/recall per error kind) and examples."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jpeval.text.keigo import analyze

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from keigo_analyser import KINDS, evaluate, load


def test_precision_and_recall_per_kind() -> None:
    rows = load()
    assert len(rows) >= 150
    table, flags, mistakes = evaluate(rows)
    for kind in KINDS:
        assert table[kind]["support"] >= 30
        assert table[kind]["precision"] >= 0.9, (kind, mistakes)
        assert table[kind]["recall"] >= 0.9, (kind, mistakes)
    assert flags["teineigo"] >= 0.95 and flags["kenjogo"] >= 0.95 and flags["sonkeigo"] >= 0.95


@pytest.mark.parametrize(
    ("text", "kind", "surface", "suggestion"),
    [
        ("社長がおっしゃられました。", "double_honorific", "おっしゃられ", "おっしゃる"),
        ("資料はもうご覧になられましたか。", "double_honorific", "ご覧になられ", "ご覧になる"),
        ("お客様が申されたとおりです。", "humble_plus_respect", "申され", "おっしゃる"),
        ("課長はもう拝見されましたか。", "humble_plus_respect", "拝見され", "ご覧になる"),
        (
            "こちらの用紙をご利用してください。",
            "humble_request",
            "ご利用してください",
            "ご利用ください",
        ),
        ("受付で伺ってください。", "humble_request", "伺ってください", None),
        (
            "会員の方はラウンジをご利用できます。",
            "humble_potential",
            "ご利用でき",
            "ご利用になれる",
        ),
    ],
)
def test_errors_with_span_and_suggestion(
    text: str, kind: str, surface: str, suggestion: str | None
) -> None:
    a = analyze(text)
    assert [(e.kind, text[e.span[0] : e.span[1]], e.suggestion) for e in a.errors] == [
        (kind, surface, suggestion)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "先生は今、お昼を召し上がっていらっしゃいます。",
        "資料は明日お送りいたします。",
        "どなたでもご利用いただけます。",
        "会員の方はラウンジをご利用になれます。",
        "明日の午後、御社にお伺いします。",
        "何をお召し上がりになりますか。",
        "先生に褒められました。",
        "このきのこは食べられます。",
        "こちらでお待ちください。",
        "ご飯できたよ。",
    ],
)
def test_accepted_forms_are_not_flagged(text: str) -> None:
    assert analyze(text).errors == []


def test_types_present() -> None:
    a = analyze("部長は会議室にいらっしゃいます。")
    assert (a.sonkeigo, a.kenjogo, a.teineigo) == (True, False, True)
    a = analyze("資料は私が拝見しておきます。")
    assert (a.sonkeigo, a.kenjogo, a.teineigo) == (False, True, True)
    a = analyze("明日は雨だ。")
    assert (a.sonkeigo, a.kenjogo, a.teineigo) == (False, False, False)


def test_rewrite_metrics() -> None:
    from jpeval.metrics import TextOutcome, keigo_conversion, keigo_correction, morph_f1

    refs = ["社長がおっしゃいました。"]
    assert keigo_correction(TextOutcome("社長がおっしゃいました。", refs)) == 1.0
    assert keigo_correction(TextOutcome("社長がおっしゃられました。", refs)) == 0.0  # error left in
    # another wording of the same correction is accepted whole
    assert keigo_correction(TextOutcome("社長はそうおっしゃいました。", refs)) == 1.0
    need = {"required": ["sonkeigo", "teineigo"]}
    assert (
        keigo_conversion(
            TextOutcome("先生がいらっしゃいます。", ["先生がいらっしゃいます。"], need)
        )
        == 1.0
    )
    assert (
        keigo_conversion(TextOutcome("先生が来ます。", ["先生がいらっしゃいます。"], need)) == 0.0
    )
    assert morph_f1(TextOutcome("先生が来ます。", ["先生がいらっしゃいます。"])) == pytest.approx(
        0.75
    )


def test_unchanged_copy_does_not_score() -> None:
    """An error the analyser cannot see (raising one's own side) must still be corrected."""
    from jpeval.metrics import TextOutcome, keigo_correction

    source = "部長がそのようにおっしゃっていました。"
    refs = ["部長の田中がそのように申しておりました。"]
    fields = {"sentence": source}
    assert keigo_correction(TextOutcome(source, refs, fields)) == 0.0
    assert keigo_correction(TextOutcome(refs[0], refs, fields)) == 1.0
