"""和暦 ⇄ 西暦: the reference converter that computes and checks gold answers.

Supported from 明治6年1月1日 (1873-01-01, when Japan adopted the Gregorian calendar) on.
An era begins on the day of its change: 1912-07-30 is 大正元年7月30日 (not 明治45年),
1926-12-25 is 昭和元年, 1989-01-08 is 平成元年, 2019-05-01 is 令和元年.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

ERAS: tuple[tuple[str, date], ...] = (
    ("明治", date(1868, 1, 25)),  # 明治元年 in Gregorian terms; dates before 1873 are refused
    ("大正", date(1912, 7, 30)),
    ("昭和", date(1926, 12, 25)),
    ("平成", date(1989, 1, 8)),
    ("令和", date(2019, 5, 1)),
)
EARLIEST = date(1873, 1, 1)


@dataclass(frozen=True)
class Wareki:
    era: str
    year: int
    month: int
    day: int

    def __str__(self) -> str:
        return f"{self.era}{year_text(self.year)}{self.month}月{self.day}日"


def year_text(year: int) -> str:
    """元年 for the first year, as official documents write it."""
    return "元年" if year == 1 else f"{year}年"


def _era_index(era: str) -> int:
    for i, (name, _) in enumerate(ERAS):
        if name == era:
            return i
    raise ValueError(f"unknown era {era!r}: expected one of {', '.join(n for n, _ in ERAS)}")


def to_wareki(d: date) -> Wareki:
    if d < EARLIEST:
        raise ValueError(f"{d} is before 明治6年1月1日 (1873-01-01), where the converter starts")
    era, start = next((n, s) for n, s in reversed(ERAS) if d >= s)
    return Wareki(era, d.year - start.year + 1, d.month, d.day)


def to_seireki(era: str, year: int, month: int = 1, day: int = 1) -> date:
    """The 西暦 date of an era date; refuses dates outside the era (e.g. 昭和64年1月8日)."""
    i = _era_index(era)
    start = ERAS[i][1]
    if year < 1:
        raise ValueError(f"{era}{year}年: the year must be 1 (元年) or more")
    d = date(start.year + year - 1, month, day)
    end = ERAS[i + 1][1] if i + 1 < len(ERAS) else None
    if d < max(start, EARLIEST) or (end is not None and d >= end):
        last = "" if end is None else f"; {era} ended on {to_wareki(end - timedelta(days=1))}"
        raise ValueError(f"{era}{year_text(year)}{month}月{day}日 is not a date of {era}{last}")
    return d


def seireki_year(era: str, year: int) -> int:
    """The 西暦 year of an era year (the year only: 昭和64年 → 1989)."""
    i = _era_index(era)
    return ERAS[i][1].year + year - 1


_WAREKI = re.compile(
    r"(明治|大正|昭和|平成|令和)\s*(元|\d+)\s*年(?!度)(?:\s*(\d+)\s*月(?:\s*(\d+)\s*日)?)?"
)


def parse_wareki(text: str) -> tuple[str, int, int | None, int | None]:
    """Era, year, and optional month and day from text like 「令和元年５月１日」."""
    m = _WAREKI.search(unicodedata.normalize("NFKC", text))
    if not m:
        raise ValueError(f"no 和暦 date in {text!r}")
    year = 1 if m.group(2) == "元" else int(m.group(2))
    month = int(m.group(3)) if m.group(3) else None
    day = int(m.group(4)) if m.group(4) else None
    return m.group(1), year, month, day


_SEIREKI = re.compile(
    r"(?:西暦)?\s*(\d{4})\s*(?:年(?!度)|[/.\-])(?:\s*(\d{1,2})\s*(?:月|[/.\-])(?:\s*(\d{1,2})\s*日?)?)?"
)


def canonical_date(text: str) -> str | None:
    """A date answer in one spelling that keeps its calendar.

    「令和元年５月１日」 → 「令和1年5月1日」, 「2019/05/01」 → 「2019年5月1日」; None if no date.
    """
    s = unicodedata.normalize("NFKC", text).strip()
    try:
        era, year, month, day = parse_wareki(s)
        head = f"{era}{year}年"
    except ValueError:
        m = _SEIREKI.search(s)
        if not m:
            return None
        head = f"{int(m.group(1))}年"
        month = int(m.group(2)) if m.group(2) else None
        day = int(m.group(3)) if m.group(3) else None
    return head + (f"{month}月" if month else "") + (f"{day}日" if month and day else "")
