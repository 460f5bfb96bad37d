"""Generation metrics that score what an answer says, not its wording: a correct answer in any
natural wording gets full credit, a wrong one (a fact changed, a keigo error left, the input
copied) gets none."""

from __future__ import annotations

import pytest

from jpeval.metrics import (
    TextOutcome,
    keigo_conversion,
    keigo_correction,
    notice_answer,
    yasashii_rewrite,
)
from jpeval.text.values import same, values


def _one(text: str) -> object:
    (v,) = values(text)
    return v


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("令和8年8月28日（金）", "2026年8月28日", True),
        ("8/28", "8月28日", True),
        ("2026年8月28日（木）", "8月28日", False),  # 2026-08-28 is a Friday
        ("令和7年8月28日", "2026年8月28日", False),
        ("午後5時", "17時", True),
        ("17:00", "午後5時", True),
        ("5時", "17時", True),  # an unmarked hour may be either
        ("午前5時", "17時", False),
        ("午後1時半", "13:30", True),
        ("1万5千円", "15,000円", True),
        ("１５０００円", "1万5000円", True),
        ("2週間", "14日", True),
        ("3か月", "3ヶ月", True),
        ("65歳以上", "65歳", True),
        ("65歳未満", "65歳以上", False),
        ("2階", "3階", False),
    ],
)
def test_values_compare_by_meaning(a: str, b: str, equal: bool) -> None:
    assert same(_one(b), _one(a)) is equal  # type: ignore[arg-type]


NOTICE_CASES = [
    # (references, answer, score)
    (["7月9日午前5時"], "令和8年7月9日（木）午前5時", 1.0),
    (["7月9日午前5時"], "7月9日の午前5時です。", 1.0),
    (["7月9日午前5時"], "2026年7月9日 5:00", 1.0),
    (["7月9日午前5時"], "7月10日午前5時", 0.0),
    (["7月9日午前5時"], "7月9日午後5時", 0.0),
    (["6,000円"], "月額6千円です", 1.0),
    (["6,000円"], "6,000円（8月は9,000円）", 1.0),  # a note beside the answer
    (["6,000円"], "9,000円", 0.0),
    (["6,000円"], "6,000円または9,000円", 0.0),  # hedging between two values is not an answer
    (["市役所2階 こども育成課"], "こども育成課（市役所2階）", 1.0),
    (["市役所2階 こども育成課"], "市役所2階のこども育成課です。", 1.0),
    (["市役所2階 こども育成課"], "市役所1階 こども育成課", 0.0),
    (["市役所2階 こども育成課"], "市民課", 0.0),
    (["市役所2階 こども育成課"], "", 0.0),
]


@pytest.mark.parametrize(("refs", "answer", "score"), NOTICE_CASES)
def test_notice_answer(refs: list[str], answer: str, score: float) -> None:
    assert notice_answer(TextOutcome(answer, refs)) == score


CONVERSION = {
    "plain": "送った企画書を読んだ？",
    "required": ["sonkeigo", "teineigo"],
    "wrong": ["お送りした企画書を拝見しましたか。", "お送りした企画書をお読みになられましたか。"],
}


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("お送りした企画書をお読みになりましたか。", 1.0),
        ("お送りした企画書をご覧になりましたか。", 1.0),
        ("お送りした企画書は、お読みいただけましたでしょうか。", 1.0),  # 〜いただく honours too
        ("お送りした企画書を拝見しましたか。", 0.0),  # 謙譲語 for the listener's action
        ("お送りした企画書をお読みになられましたか。", 0.0),  # double honorific
        ("お送りした見積書をお読みになりましたか。", 0.0),  # a fact changed
        ("送った企画書を読んだ？", 0.0),  # the input copied
    ],
)
def test_keigo_conversion_credits_any_correct_wording(answer: str, score: float) -> None:
    refs = ["お送りした企画書をお読みになりましたか。"]
    assert keigo_conversion(TextOutcome(answer, refs, CONVERSION)) == score


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("課長の佐藤は、ただいま外出しております。", 1.0),
        ("課長の佐藤は、ただいま席を外しております。", 0.0),  # another fact (外出 -> 席)
        ("佐藤課長は、ただいま外出しております。", 0.0),  # the known wrong choice, reordered
        ("課長の佐藤は、ただいま外出していらっしゃいます。", 0.0),  # the error left
    ],
)
def test_keigo_correction_catches_a_reordered_wrong_choice(answer: str, score: float) -> None:
    fields = {
        "sentence": "課長の佐藤は、ただいま外出していらっしゃいます。",
        "wrong": ["佐藤課長は、ただいま外出しております。"],
    }
    refs = ["課長の佐藤は、ただいま外出しております。"]
    assert keigo_correction(TextOutcome(answer, refs, fields)) == score


YASASHII = {
    "notice": "転入された方は、転入した日から14日以内に転入届を提出しなければなりません。"
    "手続きの際は、在留カードをご持参ください。",
    "facts": [["14日以内"], ["転入届"], ["在留カード"]],
}


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        (
            "引っ越してきた人は、「転入届」を出してください。引っ越した日から14日以内に出します。"
            "在留カードを持ってきてください。",
            1.0,
        ),
        (  # a gloss after the hard word, another order, another length of time's wording
            "転入届（引っ越してきたときに出す紙）を出してください。"
            "引っ越してから2週間以内に出します。在留カードを持ってきてください。",
            1.0,
        ),
        (  # a fact changed
            "引っ越してきた人は、「転入届」を出してください。引っ越した日から1か月以内に出します。"
            "在留カードを持ってきてください。",
            0.0,
        ),
        (  # 尊敬語 left in
            "引っ越してきた人は、「転入届」を出してください。引っ越した日から14日以内に"
            "出します。在留カードをご持参ください。",
            0.0,
        ),
        (YASASHII["notice"], 0.0),  # the notice copied
    ],
)
def test_yasashii_rewrite_scores_facts_and_rules(answer: str, score: float) -> None:
    refs = [
        "引っ越してきた人は、転入届を出してください。14日以内です。在留カードを持ってきてください。"
    ]
    assert yasashii_rewrite(TextOutcome(answer, refs, YASASHII)) == score
