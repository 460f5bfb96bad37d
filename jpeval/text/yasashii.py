"""A readability checker for やさしい日本語 (easy Japanese for residents from abroad).

The rules follow 「在留支援のためのやさしい日本語ガイドライン」(出入国在留管理庁・文化庁, 2020)
and the rules of 弘前大学's 社会言語学研究室: short sentences with one predicate each, no
尊敬語/謙譲語 (です・ます only), 西暦 rather than 元号, 午前/午後 rather than 24-hour time,
「10時から11時まで」 rather than 「10時〜11時」, no double negatives, few kanji.

The guidelines give no numbers for "short" and "few"; jpeval's thresholds are
MAX_SENTENCE_CHARS and MAX_KANJI_RATIO below. Each rule is a small function returning the
problems it finds (an empty list: the rule holds); ``check`` runs them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jpeval.text.segment import words_with_spans

CHECKER_VERSION = "1"
MAX_SENTENCE_CHARS = 40  # characters per sentence, spaces not counted
MAX_PREDICATES = 1  # predicates per sentence (clauses joined by て, たら, ば, が, ので …)
MAX_KANJI_RATIO = 0.40  # kanji / letters (kana, kanji, Latin) over the whole text


@dataclass(frozen=True)
class Problem:
    rule: str
    span: tuple[int, int]  # character offsets [start, end) in the checked text
    detail: str


_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*")


def sentences(text: str) -> list[tuple[str, int]]:
    """The sentences of ``text`` with their start offsets (split after 。！？ and newlines)."""
    return [(m.group(), m.start()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def sentence_length(text: str) -> list[Problem]:
    out = []
    for s, start in sentences(text):
        n = len(re.sub(r"\s", "", s))
        if n > MAX_SENTENCE_CHARS:
            detail = f"{n} characters (at most {MAX_SENTENCE_CHARS}): split the sentence"
            out.append(Problem("sentence_length", (start, start + len(s)), detail))
    return out


_AUX_AFTER_TE = {"て", "で", "は", "も"}  # 〜てください, 〜ている, 〜てはいけない, 〜ではない


def _is_aux(words: list[Any], i: int) -> bool:
    """words[i] (a non-independent verb or adjective) continues the predicate before it:
    〜て|で (は|も)? + ください/いる/いける/ある …, or a compound after a 連用形 verb."""
    w = words[i]
    if w.feature.pos2 != "非自立可能" or i == 0:
        return False
    j = i - 1
    while j > 0 and words[j].surface in {"は", "も"} and words[j - 1].surface in {"て", "で"}:
        j -= 1
    prev = words[j]
    if prev.surface in {"て", "で"} and prev.feature.pos1 in {"助詞", "助動詞"}:
        return True
    return prev.feature.pos1 == "動詞" and (prev.feature.cForm or "").startswith("連用形")


def _continues(words: list[Any], k: int) -> bool:
    """words[k] belongs to the predicate before it: an auxiliary (助動詞), a non-independent
    verb or adjective (〜ている, 〜てください), or the て/で/は/も that leads to one."""
    w = words[k]
    if w.feature.pos1 == "助動詞":
        return True
    if w.feature.pos1 in {"動詞", "形容詞"}:
        return _is_aux(words, k)
    return w.surface in _AUX_AFTER_TE and any(
        _is_aux(words, m)
        for m in range(k + 1, min(k + 3, len(words)))
        if words[m].feature.pos1 in {"動詞", "形容詞"}
    )


def _predicates(sentence: str) -> list[tuple[int, int]]:
    """Spans of the predicates of one sentence: verbs, adjectives and the copula after a noun,
    with their auxiliaries; a predicate that only modifies the noun after it (決まった日,
    新しいカード, 書くこと) is not counted."""
    words = [w for w, _, _ in words_with_spans(sentence)]
    spans = [(s, e) for _, s, e in words_with_spans(sentence)]
    out, i, n = [], 0, len(words)
    while i < n:
        f = words[i].feature
        head = (f.pos1 in {"動詞", "形容詞"} and not _is_aux(words, i)) or (
            f.pos1 == "助動詞"
            and f.lemma in {"だ", "です"}
            and i > 0
            and words[i - 1].feature.pos1 in {"名詞", "形状詞", "代名詞"}
        )
        if not head:
            i += 1
            continue
        j = i
        while j + 1 < n and _continues(words, j + 1):
            j += 1
        last = words[j].feature
        follows = words[j + 1].feature.pos1 if j + 1 < n else ""
        modifier = (last.cForm or "").startswith("連体形") and follows in {"名詞", "代名詞"}
        if not modifier:
            out.append((spans[i][0], spans[j][1]))
        i = j + 1
    return out


def one_predicate(text: str) -> list[Problem]:
    out = []
    for s, start in sentences(text):
        preds = _predicates(s)
        if len(preds) > MAX_PREDICATES:
            shown = "、".join(s[a:b] for a, b in preds)
            detail = f"{len(preds)} predicates ({shown}): one per sentence"
            out.append(Problem("one_predicate", (start, start + len(s)), detail))
    return out


_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]")
_LETTER = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff\u3400-\u4dbf々A-Za-zＡ-Ｚａ-ｚ]")


def kanji_ratio(text: str) -> list[Problem]:
    letters = len(_LETTER.findall(text))
    kanji = len(_KANJI.findall(text))
    if letters and kanji / letters > MAX_KANJI_RATIO:
        ratio = kanji / letters
        detail = f"kanji {kanji}/{letters} = {ratio:.2f} of the letters (at most {MAX_KANJI_RATIO})"
        return [Problem("kanji_ratio", (0, len(text)), detail)]
    return []


_TE_KUDASAI = re.compile(r"(?<=[てで])\s*(?:ください|下さい)")


def no_keigo(text: str) -> list[Problem]:
    """尊敬語 and 謙譲語 (keigo analyser); 〜てください is the plain request and is allowed,
    お〜ください / ご〜ください are not."""
    from jpeval.text.keigo import analyze

    a = analyze(_TE_KUDASAI.sub("", text))
    kinds = [k for k, on in (("尊敬語", a.sonkeigo), ("謙譲語", a.kenjogo)) if on]
    if kinds or a.errors:
        detail = "、".join(kinds or ["敬語の誤り"]) + ": use です・ます only"
        return [Problem("no_keigo", (0, len(text)), detail)]
    return []


def _regex_rule(rule: str, pattern: str, detail: str) -> Callable[[str], list[Problem]]:
    rx = re.compile(pattern)

    def check(text: str) -> list[Problem]:
        return [Problem(rule, m.span(), f"「{m.group()}」: {detail}") for m in rx.finditer(text)]

    check.__name__ = rule
    return check


_NUM = r"(?:[0-9０-９]+|[一二三四五六七八九十]+)"
no_gengo = _regex_rule(
    "no_gengo", rf"(?:明治|大正|昭和|平成|令和)\s*(?:元|{_NUM})\s*年", "write the 西暦 year"
)
no_tilde_range = _regex_rule("no_tilde_range", r"[〜～~]", "write 「AからBまで」")
no_double_negative = _regex_rule(
    "no_double_negative",
    r"な(?:ければ|くては|くちゃ|きゃ)\s*(?:なら|なり|いけ|だめ|ダメ)"
    r"|ない(?:わけ|訳)(?:では|じゃ)(?:ない|ありません)"
    r"|な(?:く|い)(?:は|も)(?:ない|ありません)"
    r"|ない(?:こと|事)は(?:ない|ありません)"
    r"|ないとは限(?:らない|りません)",
    "say it positively (〜てください, 〜が必要です)",
)

_CLOCK = re.compile(rf"{_NUM}\s*時(?!間|代|期|点|々)|[0-9０-９]{{1,2}}\s*[:：]\s*[0-9０-９]{{2}}")


def twelve_hour_time(text: str) -> list[Problem]:
    """Clock times as 午前/午後 + 1–12時; 13時, 9:30 and a bare 9時 are problems."""
    out = []
    for m in _CLOCK.finditer(text):
        before = re.sub(r"\s", "", text[: m.start()])
        hour = re.match(r"[0-9０-９]+", m.group())
        if ":" in m.group() or "：" in m.group():
            detail = "write 午前/午後 + 時・分"
        elif not before.endswith(("午前", "午後")):
            detail = "add 午前 or 午後"
        elif hour and int(hour.group()) > 12:
            detail = "use 1–12 with 午前/午後"
        else:
            continue
        out.append(Problem("twelve_hour_time", m.span(), f"「{m.group()}」: {detail}"))
    return out


RULES: tuple[Callable[[str], list[Problem]], ...] = (
    sentence_length,
    one_predicate,
    kanji_ratio,
    no_keigo,
    no_gengo,
    twelve_hour_time,
    no_tilde_range,
    no_double_negative,
)
RULE_NAMES = tuple(r.__name__ for r in RULES)


def check(text: str) -> list[Problem]:
    """Every problem in ``text``, in order of position."""
    return sorted((p for rule in RULES for p in rule(text)), key=lambda p: p.span)


def readability(text: str) -> float:
    """The fraction of rules with no problem in ``text`` (0 for an empty text)."""
    if not text.strip():
        return 0.0
    failed = {p.rule for p in check(text)}
    return 1 - len(failed) / len(RULES)
