"""The 和暦 converter: every day since 明治6年, the era boundaries, and the task's gold answers."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from jpeval.paths import tasks_dir
from jpeval.text.wareki import EARLIEST, parse_wareki, seireki_year, to_seireki, to_wareki


def test_every_day_round_trips_and_agrees_with_datetime() -> None:
    d, today, n = EARLIEST, date.today(), 0
    while d <= today:
        w = to_wareki(d)
        assert to_seireki(w.era, w.year, w.month, w.day) == d
        assert (w.month, w.day) == (d.month, d.day)  # datetime's Gregorian calendar throughout
        assert seireki_year(w.era, w.year) == d.year
        d += timedelta(days=1)
        n += 1
    assert n > 55_000


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(1873, 1, 1), "明治6年1月1日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2026, 11, 25), "令和8年11月25日"),
    ],
)
def test_era_boundaries(day: date, expected: str) -> None:
    assert str(to_wareki(day)) == expected
    assert to_seireki(*parse_wareki(expected)) == day  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["昭和64年1月8日", "平成31年5月1日", "令和元年4月30日", "大正元年7月29日", "明治5年12月31日"],
)
def test_dates_outside_their_era_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date of"):
        to_seireki(*parse_wareki(text))  # type: ignore[arg-type]


def test_parse_accepts_full_width_and_gannen() -> None:
    assert parse_wareki("令和元年５月１日") == ("令和", 1, 5, 1)
    assert parse_wareki("平成７年") == ("平成", 7, None, None)
    with pytest.raises(ValueError):
        to_wareki(date(1872, 12, 31))


def test_wareki_year_task_gold_answers_match_the_converter() -> None:
    """Every year-conversion item's gold answer is what the converter computes."""
    folder = tasks_dir() / "admin" / "wareki_year"
    checked = 0
    for path in (folder / "test.jsonl", folder / "dev.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            q, gold = item["question"], item["answer"]
            if m := re.fullmatch(r"(\S\S)(元|\d+)年は西暦何年ですか。", q):
                year = seireki_year(m.group(1), 1 if m.group(2) == "元" else int(m.group(2)))
                assert gold[0] == f"{year}年", q
                checked += 1
            elif m := re.fullmatch(r"西暦(\d+)年は(\S\S)何年ですか。", q):
                era, y = m.group(2), int(m.group(1)) - seireki_year(m.group(2), 1) + 1
                assert gold[0] == (f"{era}元年" if y == 1 else f"{era}{y}年"), q
                # the era's first day falls in that 西暦 year (or earlier): the answer exists
                assert to_wareki(date(int(m.group(1)), 12, 31)).era == era, q
                checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    ("pred", "refs", "score"),
    [
        ("令和元年５月１日", ["令和元年5月1日"], 1.0),
        ("令和1年5月1日です。", ["令和元年5月1日"], 1.0),
        ("2019/05/01", ["2019年5月1日"], 1.0),
        ("2019年5月1日", ["令和元年5月1日"], 0.0),  # right day, wrong calendar
        ("令和元年5月2日", ["令和元年5月1日"], 0.0),
        ("４７歳", ["47歳", "満47歳"], 1.0),  # not a date: normalised exact match
        ("令和5年度", ["令和5年度"], 1.0),
        ("令和5年", ["令和5年度"], 0.0),
    ],
)
def test_date_match(pred: str, refs: list[str], score: float) -> None:
    from jpeval.metrics import TextOutcome, date_match

    assert date_match(TextOutcome(pred, refs)) == score


def test_wareki_task_answers_match_the_converter() -> None:
    """admin.wareki: each date answer converts back to the date the question asks about."""
    checked = 0
    for line in (
        (tasks_dir() / "admin" / "wareki" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ):
        item = json.loads(line)
        q, gold = item["question"], item["answer"][0]
        if q.endswith("を西暦で書くと何年何月何日ですか。"):
            era, y, m, d = parse_wareki(q)
            assert gold == f"{seireki_year(era, y)}年{m}月{d}日" and to_seireki(era, y, m, d)  # type: ignore[arg-type]
            checked += 1
        elif q.endswith("を和暦で書くと何ですか。元号から答えてください。"):
            y, m, d = (int(x) for x in re.findall(r"\d+", q)[:3])
            assert gold == str(to_wareki(date(y, m, d)))
            checked += 1
    assert checked >= 50
