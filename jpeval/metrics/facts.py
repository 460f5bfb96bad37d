"""Scoring answers by the facts they state, not by their wording.

A short answer to a question about a notice is right when it states the reference's values
(dates, times, amounts, quantities: ``jpeval.text.values``) and, for the words around them
(places, documents, who), holds most of the reference's content words. A rewrite keeps a fact
when it states the value or one of the wordings listed for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jpeval.text.values import Value, prepare, same, values

# nouns that carry no content of their own (こと, もの, ところ, とき, ため, など, ほう)
_EMPTY_LEMMAS = {"事", "物", "所", "時", "為", "等", "方", "様", "の", "ん"}
_CONTENT_POS = {"名詞", "接尾辞", "動詞", "形容詞", "代名詞"}
_DISJUNCTION = re.compile(r"または|又は|もしくは|若しくは|あるいは|或いは|\bor\b|/|／")
_BRACKETS = re.compile(r"\([^()]*\)")  # after NFKC: a note such as 「（1通200円×3通）」
RECALL = 0.75  # share of a reference's content words an answer must hold


def content_words(text: str) -> set[str]:
    """Content morphemes (nouns, suffixes, verbs, adjectives) as lemmas, values left out."""
    from jpeval.text.segment import tagger

    s = prepare(text)
    for v in sorted(values(s), key=lambda v: v.span, reverse=True):
        s = s[: v.span[0]] + " " + s[v.span[1] :]
    out = set()
    for w in tagger()(s):
        f = w.feature
        if f.pos1 not in _CONTENT_POS or f.pos2 == "非自立可能":
            continue
        lemma = (f.lemma or w.surface).split("-")[0]
        if lemma not in _EMPTY_LEMMAS and not re.fullmatch(r"[0-9.]+", w.surface):
            out.add(lemma)
    return out


def _years(references: Sequence[str]) -> dict[tuple[object, ...], int]:
    """The year each date of the references is in, where any reference writes it."""
    out: dict[tuple[object, ...], int] = {}
    for r in references:
        for v in values(r):
            if v.kind == "date" and v.year is not None:
                out.setdefault(v.key, v.year)
    return out


def _values_match(
    want: list[Value], got: list[Value], text: str, years: dict[tuple[object, ...], int]
) -> bool:
    """Every kind of value the reference states is stated by the answer, and no other of that
    kind; one wanted value may also stand first or last among several (a worked sum ending in
    its total), unless the answer offers them as alternatives (または, /)."""
    for kind in {v.kind for v in want}:
        w = [v for v in want if v.kind == kind]
        g = [v for v in got if v.kind == kind]
        if not g:
            return False
        if len(w) == 1 and len(g) > 1:
            if _DISJUNCTION.search(text) or not (
                same(w[0], g[0], years) or same(w[0], g[-1], years)
            ):
                return False
            continue
        if not all(any(same(x, y, years) for y in g) for x in w):
            return False
        if not all(any(same(x, y, years) for x in w) for y in g):
            return False
    return True


def _words_match(want: set[str], got: set[str]) -> bool:
    """Most of the reference's content words, without burying them in many others."""
    if not want:
        return True
    return len(want & got) >= RECALL * len(want) and len(got - want) <= len(want) + 4


def _unit(v: Value) -> tuple[object, ...]:
    return (v.kind, v.key[1]) if v.kind == "qty" else (v.kind,)


def contradicts(got: Sequence[Value], references: Sequence[str]) -> bool:
    """Whether the answer states a value of a kind (a date, a floor, an amount) that the
    accepted answers state too, but differently from all of them (「保健センター1階」 where
    they say 「2階」). Notes in brackets are left out by the caller: they show working."""
    years = _years(references)
    accepted = [v for r in references for v in values(r)]
    for g in got:
        alike = [v for v in accepted if _unit(v) == _unit(g)]
        if alike and not any(same(v, g, years) for v in alike):
            return True
    return False


def answer_matches(answer: str, reference: str, references: Sequence[str] = ()) -> bool:
    """Whether ``answer`` states what ``reference`` does (its values, and most of its content
    words) and nothing that contradicts the accepted answers ``references``, which also tell
    the year of a date written without one."""
    want, got = values(reference), values(answer)
    refs = [reference, *references]
    if want and not _values_match(want, got, prepare(answer), _years(refs)):
        return False
    if contradicts(values(_BRACKETS.sub("", prepare(answer))), refs):
        return False
    return _words_match(content_words(reference), content_words(answer))


def states_fact(text: str, wordings: Sequence[str]) -> bool:
    """Whether ``text`` states a fact given as one or more wordings: a wording that is a value
    (a date, a time, an amount) is found by value anywhere in the text; any other by its
    characters (NFKC, spaces ignored)."""
    got = values(text)
    flat = prepare(text).replace(" ", "")
    for wording in wordings:
        want = values(wording)
        if want and all(any(same(w, g) for g in got) for w in want):
            return True
        if not want and prepare(wording).replace(" ", "") in flat:
            return True
    return False
