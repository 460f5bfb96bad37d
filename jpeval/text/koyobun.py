"""A rule checker for 「公用文作成の考え方」(文化審議会建議, 2022): each rule a small function
returning the violations it finds, with a suggestion.

Rules (ids as used by admin.koyobun_rewrite): kana_conjunction (ただし, かつ), kana_formal_noun
(こと, とき, もの, ほか after a modifier), kanji_conjunction (及び, 並びに, 又は, 若しくは; not
in texts for residents, where the 2022 document allows kana), kagetsu (3か月, 3か所),
arabic_numerals (horizontal text; full-width digits only when mixed with half-width),
digit_grouping (12,000円), punctuation (。 not ．; ， only when mixed with 、). Omitting the
long vowel mark of a 外来語 (サーバ, コンピュータ) is not flagged: 「外来語の表記」(1991),
which the 2022 document follows, allows it by custom. The checks look at form only and assume
horizontal text; formal nouns are found with fugashi (a 事・時・物・外・他 right after a verb,
adjective, auxiliary or adnominal), and 所 is left alone (it is also a real place).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from jpeval.text.segment import words_with_spans

CHECKER_VERSION = "2"


@dataclass(frozen=True)
class Violation:
    rule: str
    span: tuple[int, int]
    suggestion: str


def _regex_rule(
    rule: str, pattern: str, fix: Callable[[re.Match[str]], str]
) -> Callable[[str], list[Violation]]:
    rx = re.compile(pattern)

    def check(text: str) -> list[Violation]:
        return [Violation(rule, m.span(), fix(m)) for m in rx.finditer(text)]

    return check


kana_conjunction = _regex_rule(
    "kana_conjunction", r"但し|且つ", lambda m: {"但し": "ただし", "且つ": "かつ"}[m.group()]
)
kagetsu = _regex_rule(
    "kagetsu", r"(?<=[0-9０-９一二三四五六七八九十])\s*[ヶケカヵ箇]\s*(?=[月所])", lambda m: "か"
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_KANJI_DATE = (
    r"[一二三四五六七八九十]+月[一二三四五六七八九十]+日"
    r"|(?<![数何])[二三四五六七八九十百千]+(?:人|円|件|回|歳|時|部|冊|枚|台|か所|か月|[ヶケカ]月)"
)
_kanji_numerals = _regex_rule("arabic_numerals", _KANJI_DATE, lambda m: "算用数字で書く")


def arabic_numerals(text: str) -> list[Violation]:
    """Kanji numerals for dates and counts; full-width digits only beside half-width ones (the
    width is a matter of keeping one document consistent, not a rule)."""
    out = _kanji_numerals(text)
    if re.search(r"[0-9]", text):
        out += [
            Violation("arabic_numerals", m.span(), m.group().translate(_FULLWIDTH_DIGITS))
            for m in re.finditer(r"[０-９]+", text)
        ]
    return out


digit_grouping = _regex_rule(
    "digit_grouping",
    r"(?<![\d,，.\-])\d{5,}(?=[円人件名個枚台冊世帯部])",
    lambda m: f"{int(m.group()):,}",
)


def punctuation(text: str) -> list[Violation]:
    """「．」 as a full stop; 「，」 only where 「、」 is used too (horizontal writing may use
    either comma, one per document)."""
    out = [Violation("punctuation", m.span(), "。") for m in re.finditer("．", text)]
    if "、" in text:
        out += [Violation("punctuation", m.span(), "、") for m in re.finditer("，", text)]
    return out


_KANJI_CONJ = {"及び": "及び", "並びに": "並びに", "又": "又は", "若しくは": "若しくは"}
_FORMAL = {"事": "こと", "時": "とき", "物": "もの", "外": "ほか", "他": "ほか"}
_MODIFIER_POS = {"動詞", "助動詞", "形容詞", "連体詞"}


def _token_rules(text: str) -> list[Violation]:
    """kanji_conjunction and kana_formal_noun, which need morphemes."""
    out: list[Violation] = []
    tagged = words_with_spans(text)
    words = [w for w, _, _ in tagged]
    spans = [(start, end) for _, start, end in tagged]
    for i, w in enumerate(words):
        f = w.feature
        start, end = spans[i]
        if w.surface == "ならび" and i + 1 < len(words) and words[i + 1].surface == "に":
            out.append(Violation("kanji_conjunction", (start, spans[i + 1][1]), "並びに"))
        if f.pos1 == "接続詞" and f.lemma in _KANJI_CONJ and w.surface != f.lemma:
            if f.lemma == "又":  # または = また + は
                if i + 1 < len(words) and words[i + 1].surface == "は":
                    out.append(Violation("kanji_conjunction", (start, spans[i + 1][1]), "又は"))
            else:
                out.append(Violation("kanji_conjunction", (start, end), _KANJI_CONJ[f.lemma]))
        prev = words[i - 1] if i > 0 else None
        modified = prev is not None and (
            prev.feature.pos1 in _MODIFIER_POS or (prev.surface == "の" and w.surface in "事時外他")
        )
        if w.surface in _FORMAL and f.pos1 == "名詞" and modified:
            out.append(Violation("kana_formal_noun", (start, end), _FORMAL[w.surface]))
    return out


RULES: tuple[Callable[[str], list[Violation]], ...] = (
    kana_conjunction,
    kagetsu,
    arabic_numerals,
    digit_grouping,
    punctuation,
    _token_rules,
)


def check(text: str, public: bool = False) -> list[Violation]:
    """Every violation in ``text``, in order of position. ``public``: a text for residents
    (a notice, a guide), where および・または・ならびに・もしくは may be written in kana."""
    found = (v for rule in RULES for v in rule(text))
    if public:
        found = (v for v in found if v.rule != "kanji_conjunction")
    return sorted(found, key=lambda v: v.span)


# the kinds of document whose conjunctions follow 法令 (及び, 又は in kanji)
FORMAL_DOCUMENTS = (
    "規則",
    "条例",
    "要綱",
    "告示",
    "訓令",
    "通知",
    "事務連絡",
    "条文",
    "法令",
    "規程",
)


def is_public(document: str) -> bool:
    """Whether a document type (``市のお知らせ（横書き）``) is written for residents rather than
    in the style of 法令 (規則, 条例, 要綱, 告示, 通知 ...)."""
    return not any(kind in document for kind in FORMAL_DOCUMENTS)
