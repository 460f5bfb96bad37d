"""Values written in Japanese text: dates, clock times, amounts of money, counted quantities and
telephone numbers, each reduced to a form that compares by meaning.

``令和8年8月28日（金）``, ``2026年8月28日`` and ``8/28`` are one date (the year and weekday are
kept when written, to be checked); ``午後5時``, ``17時`` and ``17:00`` one time; ``1万5千円`` and
``15,000円`` one amount; ``2週間`` and ``14日`` one length. Metrics use this to compare the value
of an answer rather than its wording (``jpeval.metrics.notice_answer``, ``yasashii_facts``).
Bump ``VALUES_VERSION`` when behaviour changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from jpeval.text.normalize import normalize
from jpeval.text.wareki import to_seireki

VALUES_VERSION = "1"

ERA = "令和|平成|昭和|大正|明治"
WEEKDAYS = "月火水木金土日"
PERIODS = ("上旬", "中旬", "下旬", "末")


@dataclass(frozen=True)
class Value:
    """One value found in a text. ``key`` compares by meaning; ``span`` is where it was written."""

    kind: str  # date | time | yen | qty | phone
    key: tuple[object, ...]
    span: tuple[int, int]
    year: int | None = None  # date: the 西暦 year when written
    weekday: int | None = None  # date: 0 = Monday, when written
    qualifier: str = ""  # qty: 以上, 以下, 未満, 以内, 超, 前, 後 ... written right after it
    hours: tuple[int, ...] = ()  # time: minutes after midnight it may mean (5時: 5:00 or 17:00)


# ---- numbers ----------------------------------------------------------------------------

_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_SMALL = {"十": 10, "百": 100, "千": 1000}


def parse_number(text: str) -> float | None:
    """``15000``, ``1.5万``, ``1万5千``, ``1万5000``, ``三万`` -> the number; None if not one."""
    total, section, digits = 0.0, 0.0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            digits += ch
        elif ch in _KANJI_DIGITS:
            digits += str(_KANJI_DIGITS[ch])
        elif ch in _SMALL:
            section += (float(digits) if digits else 1.0) * _SMALL[ch]
            digits = ""
        elif ch == "万":
            total += (section + (float(digits) if digits else 0.0) or 1.0) * 10_000
            section, digits = 0.0, ""
        else:
            return None
    try:
        return total + section + (float(digits) if digits else 0.0)
    except ValueError:
        return None


# ---- units ------------------------------------------------------------------------------

# spelling -> (canonical unit, factor): 2週間 == 14日, 3センチ == 3cm
_UNITS: dict[str, tuple[str, float]] = {
    "日間": ("日", 1), "日": ("日", 1), "週間": ("日", 7), "週": ("日", 7),
    "か月": ("か月", 1), "ヶ月": ("か月", 1), "カ月": ("か月", 1), "ヵ月": ("か月", 1),
    "ケ月": ("か月", 1), "箇月": ("か月", 1), "ヶ月間": ("か月", 1), "か月間": ("か月", 1),
    "年間": ("年", 1), "時間": ("時間", 1), "分間": ("分", 1), "分": ("分", 1), "秒": ("秒", 1),
    "点": ("点", 1), "歳": ("歳", 1), "才": ("歳", 1), "人": ("人", 1), "名": ("人", 1),
    "回分": ("回", 1), "回": ("回", 1), "戸": ("戸", 1), "基": ("基", 1), "桁": ("桁", 1),
    "組": ("組", 1), "区画": ("区画", 1), "枚": ("枚", 1), "通": ("通", 1), "頭": ("頭", 1),
    "台": ("台", 1), "個": ("個", 1), "件": ("件", 1), "冊": ("冊", 1), "丁目": ("丁目", 1),
    "階": ("階", 1), "番": ("番", 1), "期": ("期", 1), "級": ("級", 1), "年生": ("年生", 1),
    "か所": ("か所", 1), "ヶ所": ("か所", 1), "カ所": ("か所", 1), "箇所": ("か所", 1),
    "ケ所": ("か所", 1), "ヵ所": ("か所", 1),
    "センチメートル": ("cm", 1), "センチ": ("cm", 1), "cm": ("cm", 1),
    "ミリリットル": ("ml", 1), "ml": ("ml", 1), "mL": ("ml", 1),
    "リットル": ("l", 1000), "平方メートル": ("m2", 1), "m2": ("m2", 1),
    "キロメートル": ("m", 1000), "km": ("m", 1000), "メートル": ("m", 1), "m": ("m", 1),
    "キログラム": ("g", 1000), "kg": ("g", 1000), "グラム": ("g", 1), "g": ("g", 1),
    "割": ("%", 10), "%": ("%", 1), "パーセント": ("%", 1),
}  # fmt: skip
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_QUALIFIERS = ("以上", "以下", "未満", "以内", "以降", "超", "前", "後", "まで", "から")
_QUAL_RE = "|".join(_QUALIFIERS)
# a qualifier that cannot describe the same quantity as another
CONTRADICTS = {
    "以上": {"未満", "以下"}, "超": {"未満", "以下"}, "未満": {"以上", "超"},
    "以下": {"以上", "超"}, "前": {"後", "以降"}, "後": {"前"}, "以降": {"前"},
}  # fmt: skip

_NUM = r"[0-9][0-9.]*"
_KNUM = r"[0-9〇一二三四五六七八九十百千万][0-9.〇一二三四五六七八九十百千万]*"

_PHONE = re.compile(r"(?<![0-9])(?:0[0-9]{1,4}-[0-9]{1,4}-[0-9]{3,4}|0[0-9]{9,10})(?![0-9])")
_DATE = re.compile(
    rf"(?:(?P<era>{ERA})(?P<ey>[0-9]+|元)年|(?P<y>[0-9]{{4}})年)?\s*"
    rf"(?P<m>[0-9]{{1,2}})月\s*(?:(?P<d>[0-9]{{1,2}})日|(?P<p>{'|'.join(PERIODS)}))"
    rf"(?:\s*\(?(?P<w>[{WEEKDAYS}])(?:曜日?)?\)?)?"
)
_SLASH_DATE = re.compile(
    r"(?<![0-9/])(?:(?P<y>[0-9]{4})/)?(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})(?![0-9/])"
    rf"(?:\s*\(?(?P<w>[{WEEKDAYS}])(?:曜日?)?\)?)?"
)
_TIME = re.compile(
    r"(?P<ampm>午前|午後|朝|夜|夕方|昼)?\s*(?P<h>[0-9]{1,2})時(?!間)(?:(?P<min>[0-9]{1,2})分|(?P<half>半))?"
)
_CLOCK = re.compile(r"(?<![0-9:])(?P<h>[0-9]{1,2}):(?P<min>[0-9]{2})(?![0-9:])")
_NOON = re.compile(r"正午")
_YEN = re.compile(rf"(?P<n>{_KNUM})円")
_FREE = re.compile(r"無料")
_RANGE = re.compile(
    rf"(?P<a>{_NUM})\s*(?:〜|~|～|から|-|ー)\s*(?P<b>{_NUM})\s*(?P<u>{_UNIT_RE})(?P<q>{_QUAL_RE})?"
)
_QTY = re.compile(rf"(?P<n>{_NUM})\s*(?P<u>{_UNIT_RE})(?P<q>{_QUAL_RE})?")


def prepare(text: str) -> str:
    """NFKC, no thousands separators (``1,000`` -> ``1000``), one kind of tilde."""
    s = normalize(text)
    s = re.sub(r"(?<=[0-9])[,，](?=[0-9]{3}(?![0-9]))", "", s)
    return s.replace("〜", "~").replace("～", "~")


def values(text: str) -> list[Value]:
    """Every value in ``text``, in the order written. Each character belongs to one value at
    most: phones, then dates, times, amounts and quantities, each masking what it took."""
    s = prepare(text)
    taken = [False] * len(s)
    found: list[Value] = []
    for finder in (_phones, _dates, _times, _yen, _quantities):
        for v in finder(s):
            a, b = v.span
            if not any(taken[a:b]):
                found.append(v)
                taken[a:b] = [True] * (b - a)
    return sorted(found, key=lambda v: v.span)


def _phones(s: str) -> list[Value]:
    return [Value("phone", (m.group().replace("-", ""),), m.span()) for m in _PHONE.finditer(s)]


def _year(era: str | None, era_year: str | None, year: str | None) -> int | None:
    if year:
        return int(year)
    if era and era_year:
        try:
            return to_seireki(era, 1 if era_year == "元" else int(era_year)).year
        except ValueError:
            return None
    return None


def _dates(s: str) -> list[Value]:
    out = []
    for m in _DATE.finditer(s):
        g = m.groupdict()
        day: object = int(g["d"]) if g["d"] else g["p"]
        w = WEEKDAYS.index(g["w"]) if g["w"] else None
        y = _year(g["era"], g["ey"], g["y"])
        out.append(Value("date", (int(g["m"]), day), m.span(), year=y, weekday=w))
    for m in _SLASH_DATE.finditer(s):
        g = m.groupdict()
        if not (1 <= int(g["m"]) <= 12 and 1 <= int(g["d"]) <= 31):
            continue
        w = WEEKDAYS.index(g["w"]) if g["w"] else None
        y = int(g["y"]) if g["y"] else None
        out.append(Value("date", (int(g["m"]), int(g["d"])), m.span(), year=y, weekday=w))
    return out


def _times(s: str) -> list[Value]:
    out = []
    for m in _TIME.finditer(s):
        h, ampm = int(m["h"]), m["ampm"]
        minute = int(m["min"]) if m["min"] else (30 if m["half"] else 0)
        if ampm in ("午後", "夜", "夕方") and h < 12:
            hours: tuple[int, ...] = (h + 12,)
        elif ampm in ("午後", "昼") and h == 12:
            hours = (12,)
        elif ampm in ("午前", "朝"):
            hours = (0,) if h == 12 else (h,)
        else:
            hours = (h,) if h >= 13 or h == 0 else (h, (h + 12) % 24)
        mins = tuple(x * 60 + minute for x in hours)
        out.append(Value("time", (), m.span(), hours=mins))
    for m in _CLOCK.finditer(s):
        mins = (int(m["h"]) * 60 + int(m["min"]),)
        out.append(Value("time", (), m.span(), hours=mins))
    out += [Value("time", (), m.span(), hours=(720,)) for m in _NOON.finditer(s)]
    return out


def _yen(s: str) -> list[Value]:
    out = []
    for m in _YEN.finditer(s):
        n = parse_number(m["n"])
        if n is not None:
            out.append(Value("yen", (n,), m.span()))
    return out + [Value("yen", (0.0,), m.span()) for m in _FREE.finditer(s)]


def _quantities(s: str) -> list[Value]:
    out = []
    for m in _RANGE.finditer(s):
        unit, factor = _UNITS[m["u"]]
        a, b = m.span()
        mid = m.start("b")
        out.append(Value("qty", (float(m["a"]) * factor, unit), (a, mid), qualifier=""))
        out.append(Value("qty", (float(m["b"]) * factor, unit), (mid, b), qualifier=m["q"] or ""))
    for m in _QTY.finditer(s):
        try:
            n = float(m["n"])
        except ValueError:
            continue
        unit, factor = _UNITS[m["u"]]
        out.append(Value("qty", (n * factor, unit), m.span(), qualifier=m["q"] or ""))
    return out


# ---- comparing --------------------------------------------------------------------------


def same(want: Value, got: Value, years: dict[tuple[object, ...], int] | None = None) -> bool:
    """Whether ``got`` states the value ``want`` does. A date's year and weekday count only when
    ``got`` writes them: the year must be the one known for that date (from ``want`` or
    ``years``), the weekday the one that date falls on."""
    if want.kind != got.kind:
        return False
    if want.kind == "time":
        return bool(set(want.hours) & set(got.hours))
    if want.key != got.key:
        return False
    if want.kind == "qty":
        return got.qualifier not in CONTRADICTS.get(want.qualifier, set())
    if want.kind == "date":
        year = want.year or (years or {}).get(want.key)
        if got.year is not None and year is not None and got.year != year:
            return False
        year = year or got.year
        day = want.key[1]
        if got.weekday is not None and year is not None and isinstance(day, int):
            try:
                return date(year, int(str(want.key[0])), day).weekday() == got.weekday
            except ValueError:
                return False
    return True
