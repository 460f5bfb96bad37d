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

CHECKER_VERSION = "3"
MAX_SENTENCE_CHARS = 40  # characters per sentence, spaces not counted
MAX_PREDICATES = 1  # predicates per sentence (clauses joined by て, たら, ば, が, ので …)
MAX_KANJI_RATIO = 0.40  # kanji / letters (kana, kanji, Latin) over the whole text


@dataclass(frozen=True)
class Problem:
    rule: str
    span: tuple[int, int]  # character offsets [start, end) in the checked text
    detail: str


_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*")
_GLOSS = re.compile(r"[（(][^（）()]*[)）]")


def without_glosses(text: str) -> str:
    """``text`` with each bracketed gloss (「転入届（引っ越してきたときに出す紙）」) blanked out,
    offsets kept: the guidelines ask for a hard word to be followed by an explanation, so the
    explanation does not make its sentence longer or add to its predicates."""
    return _GLOSS.sub(lambda m: " " * len(m.group()), text)


def sentences(text: str) -> list[tuple[str, int]]:
    """The sentences of ``text`` with their start offsets (split after 。！？ and newlines)."""
    return [(m.group(), m.start()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def sentence_length(text: str) -> list[Problem]:
    out = []
    for s, start in sentences(without_glosses(text)):
        n = len(re.sub(r"\s", "", s))
        if n > MAX_SENTENCE_CHARS:
            detail = f"{n} characters (at most {MAX_SENTENCE_CHARS}): split the sentence"
            out.append(Problem("sentence_length", (start, start + len(s)), detail))
    return out


_AUX_AFTER_TE = {"て", "で", "は", "も"}  # 〜てください, 〜ている, 〜てはいけない, 〜ではない
_AFTER_TE = {"帰る", "返る"}  # 持って帰る: one action, though 帰る is not a non-independent verb
# に + these verbs are compound particles (について, に対して, によって …), not predicates
_COMPOUND_PARTICLE = {
    *("付く", "つく", "就く", "対する", "関する", "因る", "依る", "よる", "拠る", "於く"),
    *("基づく", "沿う", "際する", "当たる", "比べる", "向ける", "通じる", "亘る", "渡る"),
}


def _is_aux(words: list[Any], i: int) -> bool:
    """words[i] (a verb or adjective) continues the predicate before it: 〜て|で (は|も)? +
    ください/いる/いける/ある/帰る …, or a non-independent verb after a 連用形 (出なくなる)."""
    w = words[i]
    if i == 0 or (w.feature.pos2 != "非自立可能" and w.feature.lemma not in _AFTER_TE):
        return False
    j = i - 1
    while j > 0 and words[j].surface in {"は", "も"} and words[j - 1].surface in {"て", "で"}:
        j -= 1
    prev = words[j]
    if prev.surface in {"て", "で"} and prev.feature.pos1 in {"助詞", "助動詞"}:
        return True
    return (
        w.feature.pos2 == "非自立可能"
        and prev.feature.pos1 in {"動詞", "助動詞", "形容詞"}
        and (prev.feature.cForm or "").startswith("連用形")
    )


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


def _is_head(words: list[Any], i: int) -> bool:
    """words[i] can start a predicate: a verb or adjective that is not an auxiliary, a stem
    (暑さ) or a compound particle (について), or the copula after a noun (ただし not the
    adverbial に of 個別に)."""
    f = words[i].feature
    prev = words[i - 1] if i > 0 else None
    if f.pos1 in {"動詞", "形容詞"}:
        if (f.cForm or "").startswith("語幹") or _is_aux(words, i):
            return False
        return not (prev is not None and prev.surface == "に" and f.lemma in _COMPOUND_PARTICLE)
    return (
        f.pos1 == "助動詞"
        and f.lemma in {"だ", "です"}
        and f.cForm != "連用形-ニ"
        and prev is not None
        and prev.feature.pos1 in {"名詞", "形状詞", "代名詞"}
    )


def _counts(words: list[Any], i: int, j: int) -> bool:
    """Whether words[i..j], a predicate group, is a predicate of the sentence, and not: a
    condition of the one after it (〜たら, 〜ば, 〜と) or a concession (〜ても), a purpose
    (〜には), one of a 〜たり list, a time (〜てから), できるだけ; a modifier of the noun after
    it (決まった日, 新しいお店, とまるのは); an adverb (長く住む);
    a verb's noun form (いそぎの書類, あずかりをする); or a bare copula で (ことで、), which is
    also the particle."""
    first, last = words[i].feature, words[j].feature
    form = last.cForm or ""
    nxt = words[j + 1] if j + 1 < len(words) else None
    npos = nxt.feature.pos1 if nxt is not None else ""
    if form.startswith("仮定形") or (
        nxt is not None and nxt.feature.pos2 == "接続助詞" and nxt.surface in {"と", "ば"}
    ):
        return False  # a condition of the main predicate (降ったら、遅れると、受ければ)
    after = [w.surface for w in words[j + 1 : j + 3]]
    if after[:1] in (["たり"], ["だり"]) or after == ["て", "から"]:
        return False  # one of a list (食べたり飲んだりしない), or a time (引っ越してから14日)
    if after in (["て", "も"], ["で", "も"], ["に", "は"]):
        return False  # a concession (なくても大丈夫) or a purpose (もらうには、…が必要)
    if first.lemma == "出来る" and after[:1] == ["だけ"]:
        return False  # できるだけ: an adverb
    if form.startswith("連体形") and (
        npos in {"名詞", "代名詞", "接頭辞", "形状詞"}
        or (nxt is not None and nxt.feature.pos2 == "準体助詞")
    ):
        return False  # a noun's modifier, or a purpose (ならないように)
    if (
        i == j
        and first.pos1 == "形容詞"
        and form.startswith("連用形")
        and (npos not in {"助詞", "補助記号", ""} or (nxt is not None and nxt.surface == "とも"))
    ):
        return False
    if (
        i == j
        and first.pos1 == "動詞"
        and form.startswith("連用形")
        and nxt is not None
        and nxt.surface in {"の", "を", "が"}
    ):
        return False
    return not (i == j and first.pos1 == "助動詞" and form.startswith("連用形"))


def _predicates(sentence: str) -> list[tuple[int, int]]:
    """Spans of the predicates of one sentence: verbs, adjectives and the copula after a noun,
    each with its auxiliaries (see ``_is_head`` and ``_counts`` for what is left out)."""
    tagged = words_with_spans(sentence)
    words = [w for w, _, _ in tagged]
    groups, i, n = [], 0, len(words)
    while i < n:
        if not _is_head(words, i):
            i += 1
            continue
        j = i
        while j + 1 < n and _continues(words, j + 1):
            j += 1
        groups.append((i, j, _counts(words, i, j)))
        i = j + 1
    out = []
    for k, (i, j, counts) in enumerate(groups):
        te = j + 1 < n and words[j + 1].surface in {"て", "で"}
        nxt = groups[k + 1] if k + 1 < len(groups) else None
        if counts and te and nxt is not None and not nxt[2]:
            continue  # inside the modifier that follows (日本を出て外国に住むとき)
        if counts:
            out.append((tagged[i][1], tagged[j][2]))
    return out


_QUOTE = re.compile(r"「[^「」]*」")


def one_predicate(text: str) -> list[Problem]:
    """At most one predicate per sentence; a gloss in brackets and words quoted in 「」 (本人が
    「この人に頼みます」と書いた紙) are not the sentence's own predicates."""
    out = []
    text = _QUOTE.sub(lambda m: "「" + "X" * (len(m.group()) - 2) + "」", without_glosses(text))
    for s, start in sentences(text):
        preds = _predicates(s)
        if len(preds) > MAX_PREDICATES:
            shown = "、".join(s[a:b] for a, b in preds)
            detail = f"{len(preds)} predicates ({shown}): one per sentence"
            out.append(Problem("one_predicate", (start, start + len(s)), detail))
    return out


_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf々]")
_LETTER = re.compile(
    r"[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff\u3400-\u4dbf々A-Za-zＡ-Ｚａ-ｚ0-9０-９]"
)


def kanji_ratio(text: str) -> list[Problem]:
    """Kanji over letters, glosses left out: 「在留カード（外国人の身分証明書）」 or 「住む所
    （住所）」 keeps the hard word beside its explanation, as the guidelines ask."""
    text = without_glosses(text)
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
    r"|ないとは限(?:らない|りません)"
    r"|なければ[^。]{0,15}?(?:ない|ません)",
    "say it positively (〜てください, 〜が必要です)",
)

# Arabic digits only: 一時 is also "for a while" (一時保育, 一時金)
_CLOCK = re.compile(
    r"[0-9０-９]{1,2}\s*時(?!間|代|期|点|々)|[0-9０-９]{1,2}\s*[:：]\s*[0-9０-９]{2}"
)


def twelve_hour_time(text: str) -> list[Problem]:
    """Clock times as 午前/午後 (or 朝の, 昼の, 夜の) + 1–12時; 13時, 9:30 and a bare 9時 are
    problems, except the end of a range whose start has one (午前10時から11時まで) and a
    gloss in brackets (正午（昼の12時）)."""
    out = []
    text = without_glosses(text)
    for m in _CLOCK.finditer(text):
        before = re.sub(r"\s", "", text[: m.start()])
        sentence = re.split(r"[。！？!?\n]", before)[-1]
        range_end = sentence.endswith("から") and re.search(r"(?:午前|午後)[0-9０-９]", sentence)
        hour = re.match(r"[0-9０-９]+", m.group())
        if ":" in m.group() or "：" in m.group():
            detail = "write 午前/午後 + 時・分"
        elif not before.endswith(("午前", "午後", "昼の", "夜の", "朝の")) and not range_end:
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
