"""Writes test.jsonl and dev.jsonl of admin.wareki from the reference converter.

Run from the repository root: `.venv/bin/python tasks/admin/wareki/build_items.py`.
(jpeval never runs Python from task folders; this script is for the task's authors.)
Dates are drawn with a fixed seed; era boundary dates are always included.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

from jpeval.text.wareki import ERAS, to_wareki, year_text

HERE = Path(__file__).parent
BOUNDARIES = [
    date(1912, 7, 29),
    date(1912, 7, 30),
    date(1926, 12, 24),
    date(1926, 12, 25),
    date(1989, 1, 7),
    date(1989, 1, 8),
    date(2019, 4, 30),
    date(2019, 5, 1),
]


def wa(d: date) -> str:
    return str(to_wareki(d))


def seireki(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def era_note(d: date) -> str:
    w = to_wareki(d)
    start = dict(ERAS)[w.era]
    if w.era == "明治":  # the first day of 明治 is stated differently by convention: leave it out
        return f"{w.era}元年は西暦{start.year}年にあたる"
    return f"{w.era}は{seireki(start)}に始まり、{w.era}元年は西暦{start.year}年にあたる"


def w2s(d: date) -> dict[str, object]:
    w = to_wareki(d)
    return {
        "question": f"{wa(d)}を西暦で書くと何年何月何日ですか。",
        "answer": [seireki(d)],
        "rationale": f"{era_note(d)}。{w.era}{year_text(w.year)}は{w.year}＋{ERAS_OFFSET[w.era]}＝{d.year}年なので{seireki(d)}。",
    }


def s2w(d: date) -> dict[str, object]:
    return {
        "question": f"{seireki(d)}を和暦で書くと何ですか。元号から答えてください。",
        "answer": [wa(d)],
        "rationale": f"{era_note(d)}。したがって{seireki(d)}は{wa(d)}。",
    }


def age(birth: date, on: date) -> dict[str, object]:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return {
        "question": f"{wa(birth)}生まれの人は、{wa(on)}の時点で満何歳ですか。",
        "answer": [f"{years}歳", f"満{years}歳"],
        "rationale": (
            f"{wa(birth)}は{seireki(birth)}、{wa(on)}は{seireki(on)}。誕生日を"
            f"{'まだ迎えていない' if (on.month, on.day) < (birth.month, birth.day) else '迎えている'}ので満{years}歳。"
        ),
    }


def nendo(d: date) -> dict[str, object]:
    start_year = d.year if d.month >= 4 else d.year - 1
    w = to_wareki(date(start_year, 4, 1))
    label = f"{w.era}{year_text(w.year)}度"
    return {
        "question": f"{wa(d)}は、4月に始まり翌年3月に終わる年度でいうと何年度ですか。元号で答えてください。",
        "answer": [label] + ([f"{w.era}1年度"] if w.year == 1 else []),
        "rationale": f"年度は4月1日から翌年3月31日まで。{wa(d)}（{seireki(d)}）は{start_year}年4月に始まる年度に属し、{label}。",
    }


ERAS_OFFSET = {name: start.year - 1 for name, start in ERAS}


def random_day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(days=rng.randrange((hi - lo).days + 1))


def build(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    lo, hi = date(1873, 1, 1), date(2025, 12, 31)
    items = [w2s(d) for d in BOUNDARIES[::2]] + [s2w(d) for d in BOUNDARIES[1::2]]
    items += [s2w(d) for d in BOUNDARIES[::2]] + [w2s(d) for d in BOUNDARIES[1::2]]
    items += [w2s(random_day(rng, lo, hi)) for _ in range(22)]
    items += [s2w(random_day(rng, lo, hi)) for _ in range(22)]
    for _ in range(24):
        birth = random_day(rng, date(1927, 1, 1), date(2015, 12, 31))
        on = random_day(rng, birth + timedelta(days=400), date(2025, 12, 31))
        if (on.month, on.day) != (birth.month, birth.day) and (on + timedelta(days=1)).timetuple()[
            1:3
        ] != birth.timetuple()[1:3]:
            items.append(age(birth, on))
    months = [1, 2, 3, 3, 4, 4, 12]  # the months around the turn of the 年度 matter most
    while sum("年度" in str(i["question"]) for i in items) < 20:
        d = date(rng.randrange(1990, 2026), rng.choice(months), rng.randrange(1, 29))
        if (
            d.year if d.month >= 4 else d.year - 1
        ) != 2019:  # FY2019: 平成31年度 and 令和元年度 both in use
            items.append(nendo(d))
    return items


def main() -> None:
    test = build(2026)
    seen = {t["question"] for t in test}
    dev = [d for d in build(7) if d["question"] not in seen][:8:]
    for name, rows, prefix in (("test.jsonl", test, "wk"), ("dev.jsonl", dev, "wk-dev")):
        with (HERE / name).open("w", encoding="utf-8") as f:
            for i, row in enumerate(rows, 1):
                f.write(json.dumps({"id": f"{prefix}-{i:03d}", **row}, ensure_ascii=False) + "\n")
    for row in test + dev:  # every 西暦 answer converts back to the date asked about
        for ans in row["answer"]:  # type: ignore[attr-defined]
            if str(ans)[:1].isdigit() and str(ans).endswith("日"):
                y, rest = str(ans).split("年")
                m, d = rest.removesuffix("日").split("月")
                to_wareki(date(int(y), int(m), int(d)))


if __name__ == "__main__":
    main()
