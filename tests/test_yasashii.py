"""The やさしい日本語 readability checker: each rule with texts that break it and texts that keep
it, and the admin.yasashii metrics."""

from __future__ import annotations

import pytest

from jpeval.text.yasashii import RULE_NAMES, check, readability

# rule, a text that breaks it, the flagged text ("" = the whole text or sentence), one that keeps it
CASES = [
    (
        "sentence_length",
        "引っ越してきた人は、引っ越した日から14日以内に、市役所の1階にある市民課の窓口で届けを出してください。",
        "",
        "引っ越したら市役所に行ってください。",
    ),
    (
        "one_predicate",
        "書類を書いて、窓口に出してください。",
        "",
        "窓口に書類を出してください。",
    ),
    (
        "one_predicate",
        "バスに乗って、駅で降りてください。",
        "",
        "駅でバスを降りてください。",
    ),
    (
        "kanji_ratio",
        "市役所は土曜日と日曜日は休みです。",
        "",
        "しやくしょは土よう日と日よう日は休みです。",
    ),
    ("no_keigo", "窓口でお待ちください。", "", "まどぐちで待ってください。"),
    ("no_keigo", "どなたでもご利用いただけます。", "", "だれでも使うことができます。"),
    ("no_keigo", "係の者が伺います。", "", "係の人が行きます。"),
    ("no_gengo", "2026年は令和8年です。", "令和8年", "今年は2026年です。"),
    ("no_gengo", "平成元年に始まりました。", "平成元年", "1989年に始まりました。"),
    ("twelve_hour_time", "受付は17時までです。", "17時", "受付は午後5時までです。"),
    ("twelve_hour_time", "午後17時に閉まります。", "17時", "午後5時に閉まります。"),
    ("twelve_hour_time", "9時に開きます。", "9時", "午前9時に開きます。"),
    ("twelve_hour_time", "会は13:30からです。", "13:30", "会は午後1時30分からです。"),
    ("no_tilde_range", "受付は月〜金です。", "〜", "受付は月曜日から金曜日までです。"),
    (
        "no_double_negative",
        "書類を出さなければなりません。",
        "なければなり",
        "書類を出してください。",
    ),
    (
        "no_double_negative",
        "行けないわけではありません。",
        "ないわけではありません",
        "行くことができます。",
    ),
    (
        "no_double_negative",
        "本人でなければもらえません。",
        "なければもらえません",
        "本人がもらいます。",
    ),
]


@pytest.mark.parametrize(("rule", "bad", "flagged", "good"), CASES)
def test_rule(rule: str, bad: str, flagged: str, good: str) -> None:
    found = [p for p in check(bad) if p.rule == rule]
    assert found, f"{rule} not found in {bad!r}"
    if flagged:
        assert flagged in [bad[p.span[0] : p.span[1]] for p in found]
    assert not [p for p in check(good) if p.rule == rule], check(good)


@pytest.mark.parametrize(
    "text",
    [
        "ごみは決まった日に出してください。",  # 決まった modifies 日: one predicate
        "はんこを持ってきてください。",  # 〜てくる, 〜てください: one predicate
        "ここでたばこを吸ってはいけません。",
        "ここは市役所ではありません。",
        "書くことができます。",
        "24時間あいています。",  # a duration, not a clock time
        "子どもの一時あずかりをします。",  # 一時 = for a while
        "午前10時から11時までです。",  # the end of a range keeps the start's 午前
        "新しいお店ができました。",  # modifiers of a noun (also after お/ご) are not predicates
        "3か月より長く日本にいる人です。",  # an adverb
        "個別に知らせます。",
        "学校についての紙です。",  # a compound particle
        "いそぎの書類です。",  # a verb's noun form
        "暑さに気をつけてください。",
        "水が出なくなります。",
        "持って帰ってください。",
        "バスがとまるのは、この前です。",  # 〜のは: a noun clause
        "にほんごのクラスは毎週土よう日の午前10時からです。",
    ],
)
def test_no_false_alarm(text: str) -> None:
    assert check(text) == []


def test_readability_is_the_fraction_of_rules_kept() -> None:
    assert readability("市役所に来てください。") == 1.0
    # breaks no_gengo and twelve_hour_time only
    assert readability("令和8年のはるに、9時からはじめます。") == pytest.approx(
        1 - 2 / len(RULE_NAMES)
    )
    assert readability("") == 0.0


def test_yasashii_metrics() -> None:
    from jpeval.metrics import TextOutcome, yasashii_readability, yasashii_rewrite

    notice = "申請は令和8年4月30日までにお済ませください。"
    refs = ["申請は2026年4月30日までにしてください。"]
    fields = {"notice": notice}
    assert yasashii_rewrite(TextOutcome(refs[0], refs, fields)) == 1.0
    assert yasashii_rewrite(TextOutcome(notice, refs, fields)) == 0.0  # unchanged
    assert yasashii_rewrite(TextOutcome("", refs, fields)) == 0.0
    # easy but keeps the 元号: a rule broken scores nothing, though it reads partly easy
    partial = "申請は令和8年4月30日までにしてください。"
    assert yasashii_rewrite(TextOutcome(partial, refs, fields)) == 0.0
    assert 0 < yasashii_readability(TextOutcome(partial, refs, fields)) < 1
    # easy but a wrong date: without `facts`, every number of a reference is needed
    wrong = "申請は2026年3月31日までにしてください。"
    assert yasashii_rewrite(TextOutcome(wrong, refs, fields)) == 0.0


def test_number_recall() -> None:
    from jpeval.metrics import TextOutcome, number_recall

    refs = ["手数料は1,000円です。受付は午前9時からです。"]
    assert number_recall(TextOutcome("受付は午前９時から。手数料は1000円。", refs)) == 1.0
    assert number_recall(TextOutcome("手数料は500円です。受付は午前9時からです。", refs)) == 0.5
    assert number_recall(TextOutcome("よろしく", ["数字はありません。"])) == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "雨が降ったら、中止します。",
        "分からないことがあれば、聞いてください。",
        "遅れると、お金はもらえません。",
        "引っ越してから14日以内に出してください。",
        "食べたり飲んだりしないでください。",
        "できるだけ外に出ないでください。",
        "転入届（引っ越してきたときに出す紙）を出してください。",
        "申し込みは、2026年7月1日（水）から7月10日（金）までです。",
    ],
)
def test_conditions_and_glosses_are_not_extra_predicates(text: str) -> None:
    """A condition sets up the one statement of its sentence, and a gloss after a hard word is
    what the guidelines ask for: neither is a second predicate or a longer sentence."""
    assert [p for p in check(text) if p.rule in ("one_predicate", "sentence_length")] == []
