"""The 公用文 rule checker: each rule with positive and negative examples, and its metric."""

from __future__ import annotations

import pytest

from jpeval.text.koyobun import check

CASES = [  # rule, a sentence that breaks it (and the flagged text), one that does not
    ("kana_conjunction", "但し、土曜日は休みです。", "但し", "ただし、土曜日は休みです。"),
    (
        "kana_conjunction",
        "期限内に且つ窓口で提出する。",
        "且つ",
        "期限内に、かつ、窓口で提出する。",
    ),
    (
        "kana_formal_noun",
        "申請する時は、窓口へお越しください。",
        "時",
        "申請するときは、窓口へお越しください。",
    ),
    ("kana_formal_noun", "次の事に注意してください。", "事", "次のことに注意してください。"),
    (
        "kana_formal_noun",
        "この規則に定める物のほか必要な事項は別に定める。",
        "物",
        "この規則に定めるもののほか必要な事項は別に定める。",
    ),
    (
        "kanji_conjunction",
        "本人または代理人が申請できます。",
        "または",
        "本人又は代理人が申請できます。",
    ),
    (
        "kanji_conjunction",
        "申請書および委任状を出してください。",
        "および",
        "申請書及び委任状を出してください。",
    ),
    ("kagetsu", "有効期間は3ヶ月です。", "ヶ", "有効期間は3か月です。"),
    ("kagetsu", "市内2カ所に設置します。", "カ", "市内2か所に設置します。"),
    (
        "arabic_numerals",
        "定員は３０人、参加費は500円です。",
        "３０",
        "定員は30人、参加費は500円です。",
    ),
    ("arabic_numerals", "三月十日に開催します。", "三月十日", "3月10日に開催します。"),
    ("digit_grouping", "手数料は12000円です。", "12000", "手数料は12,000円です。"),
    ("punctuation", "受付は午前9時からです．", "．", "受付は午前9時からです。"),
    ("punctuation", "受付は、平日の午前9時から，午後5時までです。", "，", "受付は、平日です。"),
]


@pytest.mark.parametrize(("rule", "bad", "flagged", "good"), CASES)
def test_rule(rule: str, bad: str, flagged: str, good: str) -> None:
    found = [(v.rule, bad[v.span[0] : v.span[1]]) for v in check(bad)]
    assert (rule, flagged) in found
    assert not [v for v in check(good) if v.rule == rule]


@pytest.mark.parametrize(
    "text",
    [
        "数十人が参加しました。",  # approximate numbers stay in kanji
        "一部の地域で実施します。",
        "またはじめから説明します。",  # また + はじめる, not または
        "ユーザビリティを高めます。",
        "電話番号は03-1234-5678です。",
        "事故が起きた所を確認します。",  # 所 can be a real place: left alone
        "申請書及び委任状並びに本人確認書類を提出してください。",
        # forms 「公用文作成の考え方」(2022) allows: the long vowel mark left off by custom, one
        # comma used throughout a horizontal text, full-width digits used throughout
        "サーバの保守のため、コンピュータを停止します。",
        "受付は，平日の午前9時から午後5時までです。",
        "定員は３０人です。",
    ],
)
def test_no_false_alarm(text: str) -> None:
    assert check(text) == []


def test_koyobun_rewrite_metric() -> None:
    from jpeval.metrics import TextOutcome, koyobun_rewrite

    source = "但し、申請は3ヶ月以内に限ります。"
    refs = ["ただし、申請は3か月以内に限ります。"]
    fields = {"sentence": source}
    assert koyobun_rewrite(TextOutcome(refs[0], refs, fields)) == 1.0
    assert koyobun_rewrite(TextOutcome(source, refs, fields)) == 0.0
    assert koyobun_rewrite(TextOutcome("ただし、申請は3ヶ月以内に限ります。", refs, fields)) == 0.0


def test_kana_conjunctions_are_allowed_for_residents() -> None:
    from jpeval.text.koyobun import is_public

    text = "申請書または委任状を出してください。"
    assert [v.rule for v in check(text)] == ["kanji_conjunction"]
    assert check(text, public=True) == []
    assert is_public("市のお知らせ（横書き）") and not is_public("規則（横書き）")


def test_koyobun_rewrite_accepts_the_allowed_forms() -> None:
    from jpeval.metrics import TextOutcome, koyobun_rewrite

    fields = {
        "document": "市のお知らせ（横書き）",
        "sentence": "但し、サーバーまたは端末を停止します。",
    }
    refs = ["ただし、サーバーまたは端末を停止します。"]
    for ok in ("ただし、サーバ又は端末を停止します。", "ただし，サーバーまたは端末を停止します。"):
        assert koyobun_rewrite(TextOutcome(ok, refs, fields)) == 1.0
    for wrong in (
        "但し、サーバーまたは端末を停止します。",
        "ただし、サーバーまたは端末を休止します。",
    ):
        assert koyobun_rewrite(TextOutcome(wrong, refs, fields)) == 0.0
