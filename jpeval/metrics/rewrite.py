"""Whether a rewrite is acceptable, whatever its wording: the scoring behind keigo.correction,
keigo.conversion (``accepted_rewrite``: keigo right, facts kept, no known wrong choice made) and
admin.koyobun_rewrite (``same_content``: the reference's words, allowed variants aside)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from itertools import pairwise

from jpeval.metrics import TextOutcome, morph_f1
from jpeval.text.keigo import analyze
from jpeval.text.normalize import normalize
from jpeval.text.segment import morphemes, tagger
from jpeval.text.values import parse_number, same, values


def keigo_ok(text: str, required: Sequence[str]) -> bool:
    """No keigo error, and every required type present. The listener's action is honoured by
    尊敬語 (お〜になる, or 〜れる: 読まれましたか) or by お〜いただく / 〜ていただく
    (謙譲語Ⅰ raising the giver): each meets ``sonkeigo`` (お読みになりましたか =
    お読みいただけましたか)."""
    a = analyze(text)
    respect = a.sonkeigo or a.benefactive or (bool(required) and _reru(text))
    present = {"sonkeigo": respect, "kenjogo": a.kenjogo, "teineigo": a.teineigo}
    return not a.errors and all(present[t] for t in required)


def _reru(text: str) -> bool:
    """Whether a verb takes れる/られる (読まれる, 来られる): 尊敬語 when the sentence it rewrites
    had none, as in a conversion; the analyser leaves it open (it is also passive and potential)."""
    words = list(tagger()(normalize(text)))
    return any(
        w.feature.lemma in {"れる", "られる"} and i > 0 and words[i - 1].feature.pos1 == "動詞"
        for i, w in enumerate(words)
    )


def _makes_wrong_choice(answer: str, references: Sequence[str], wrong: Sequence[str]) -> bool:
    """Whether the answer makes the choice that sets a known wrong answer apart from all the
    references: it has every morpheme of that answer that no reference has, in mostly the same
    context (at least half of its pairs of adjacent morphemes that no reference has: お聞きし is
    not お聞きになり); or, when every morpheme is in some reference (「佐藤課長は」 for 「課長の
    佐藤は」), all of those pairs. Then it made that wrong choice, whatever else it says."""

    def pairs(ms: list[str]) -> set[tuple[str, ...]]:
        padded = ["^", *ms, "$"]
        return set(pairwise(padded))

    mine = morphemes(answer)
    mine_pairs = pairs(mine)
    refs = [morphemes(r) for r in references]
    accepted_words = {m for r in refs for m in r}
    accepted_pairs = set().union(*(pairs(r) for r in refs))
    for w in wrong:
        theirs = morphemes(w)
        own = set(theirs) - accepted_words
        own_pairs = pairs(theirs) - accepted_pairs
        if own:
            if own <= set(mine) and 2 * len(own_pairs & mine_pairs) >= len(own_pairs):
                return True
        elif own_pairs and own_pairs <= mine_pairs:
            return True
    return False


_NEGATION = {"ない", "ぬ", "ず", "無い"}  # lemmas of negation
# nouns a keigo rewrite may drop or change: forms of address and keigo words themselves
_KEIGO_NOUNS = {
    "御覧",
    "拝見",
    "拝読",
    "拝借",
    "拝聴",
    "存じ",
    "私",
    "わたくし",
    "皆",
    "皆様",
    "方",
}
# time words whose 副詞可能 nouns still carry a fact (明日 -> 今日 changes it); 本日 is 今日
_TIME_NOUNS = {"今日", "明日", "昨日", "明後日", "今朝", "今晩", "今夜", "午前", "午後", "来週",
               "今週", "先週", "来月", "今月", "先月", "来年", "今年", "去年", "毎日", "毎朝",
               "朝", "昼", "夜", "夕方", "晩", "週末", "月末", "前", "後", "次回", "今回",
               "前回"}  # fmt: skip
# what follows the noun of an honorific verb form (お帰りになる, ご使用いただく, ご記入ください)
_KEIGO_AFTER = {
    "に",
    "為る",
    "致す",
    "頂く",
    "下さる",
    "出来る",
    "申し上げる",
    "願う",
    "です",
    "だ",
}
_SAME_NOUN = {"本日": "今日", "昨年": "去年", "本年": "今年", "先程": "先"}
_TWO_NOUNS = {
    "明朝": ("明日", "朝"),
    "今朝": ("今日", "朝"),
    "昨夜": ("昨日", "夜"),
    "食後": ("食事", "後"),
}


def _fact_nouns(text: str) -> set[str]:
    """The nouns of ``text`` that carry its facts, as lemmas: people, things, places, times
    (not adverb-like or counter nouns such as 先ほど or とおり, not keigo words, not the verb
    inside an honorific form such as お帰りになる)."""
    out: set[str] = set()
    words = list(tagger()(normalize(text)))
    for i, w in enumerate(words):
        f = w.feature
        lemma = w.surface if f.pos2 == "固有名詞" else (f.lemma or w.surface).split("-")[0]
        if lemma in _TWO_NOUNS:
            out.update(_TWO_NOUNS[lemma])
            continue
        lemma = _SAME_NOUN.get(lemma, lemma)
        if f.pos1 != "名詞" or f.pos2 == "数詞" or lemma in _KEIGO_NOUNS:
            continue
        after = words[i + 1].feature.lemma if i + 1 < len(words) else None
        if i > 0 and words[i - 1].feature.lemma == "御" and after in _KEIGO_AFTER:
            continue  # the verb of お帰りになる, ご使用いただく: a keigo form, reworded freely
        if f.pos3 in {"副詞可能", "助数詞可能"} and lemma not in _TIME_NOUNS:
            continue
        out.add(lemma)
    return out


def _keeps_facts(answer: str, references: Sequence[str], source: object) -> bool:
    """Whether the answer keeps the facts the rewrite must carry over: every noun that the
    original sentence and a reference share (部長, 企画書, 明日), the same numbers and values
    (1週間 is not 1か月), and the polarity (an odd or even number of negations) of the
    original or of that reference. A rewrite changes the keigo, not who did what, when, or
    whether."""
    have = _fact_nouns(answer)
    numbers = _kanji_numbers(answer)
    stated = values(answer)
    negated = _negations(answer) % 2
    src = _fact_nouns(source) if isinstance(source, str) else None
    polarity = {_negations(source) % 2} if isinstance(source, str) else set()
    for ref in references:
        want = _fact_nouns(ref)
        if src is not None:
            want &= src
        if (
            want <= have
            and _kanji_numbers(ref) <= numbers
            and all(any(same(v, g) for g in stated) for v in values(ref))
            and negated in polarity | {_negations(ref) % 2}
        ):
            return True
    return False


def _kanji_numbers(text: str) -> set[float]:
    """The numbers written in ``text``, in digits or kanji (二十分 = 20分, 1,000 = 千)."""
    found = re.findall(
        r"[0-9〇一二三四五六七八九十百千万][0-9,.〇一二三四五六七八九十百千万]*", normalize(text)
    )
    return {n for n in (parse_number(x.replace(",", "")) for x in found) if n is not None}


def _negations(text: str) -> int:
    """How many verbs ``text`` negates (ない, ぬ as in ません, ず), not counting a negative
    question that asks a favour (お伝えいただけないでしょうか, いただけませんか), 申し訳
    ございません, or adjectives (お変わりない)."""
    words = list(tagger()(normalize(text)))
    return sum(
        (w.feature.lemma or "") in _NEGATION
        and w.feature.pos1 == "助動詞"
        and not (i + 1 < len(words) and words[i + 1].surface in {"でしょう", "か", "です"})
        and "申し訳" not in "".join(x.surface for x in words[max(0, i - 4) : i])
        for i, w in enumerate(words)
    )


def accepted_rewrite(o: TextOutcome, source_field: str, ok: Callable[[str], bool]) -> bool:
    """Whether the answer's first line is an acceptable rewrite of the item's ``source_field``:
    it passes the rule check ``ok``; it neither is the original nor keeps what sets the
    original apart from the references (``_makes_wrong_choice``); it shares at least half its
    morphemes with a reference (not an answer to some other sentence); it keeps the facts
    (``_keeps_facts``); and it does not make the choice of one of the item's known wrong
    answers (``wrong``). Wording is free."""
    answer = o.prediction.split("\n", 1)[0]
    if not answer.strip() or not ok(answer):
        return False
    best = morph_f1(TextOutcome(answer, o.references))
    source = o.fields.get(source_field)
    if isinstance(source, str) and normalize(answer) == normalize(source):
        return False
    wrong = o.fields.get("wrong")
    wrong = [w for w in wrong if isinstance(w, str)] if isinstance(wrong, list) else []
    if isinstance(source, str):
        wrong.append(source)  # what the original sets apart from the references must be gone
    return (
        best >= 0.5
        and _keeps_facts(answer, o.references, source)
        and not _makes_wrong_choice(answer, o.references, wrong)
    )


# parts of speech a rewrite may add, drop or change without changing what the sentence says
# (negation is not among them: ない, ぬ, ず are content)
_FUNCTION_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}
_AMOUNT = re.compile(r"[0-9][0-9,.]*(?:[万億][0-9,.]*)*")


# spellings the 2022 document allows side by side in a text for residents
_KANA_CONJ = {
    "および": "及び",
    "または": "又",
    "ならびに": "並びに",
    "もしくは": "若しくは",
    "また": "又",
}


def _words(text: str, public: bool = False) -> list[tuple[str, str]]:
    """(surface, part of speech) of each morpheme of the normalised text, numbers taken out, a
    外来語's closing long vowel mark dropped (サーバー = サーバ) and, in a text for residents
    (``public``), kana conjunctions spelled as kanji (または = 又は)."""
    out = []
    for w in tagger()(_AMOUNT.sub("#", normalize(text).replace(" ", ""))):
        f = w.feature
        pos = "内容" if (f.lemma or "").split("-")[0] in _NEGATION else f.pos1
        surface = w.surface
        if re.fullmatch(r"[ァ-ヺー]{3,}", surface):
            surface = surface.rstrip("ー")
        if public and f.pos1 == "接続詞":
            surface = _KANA_CONJ.get(surface, surface)
        out.append((surface, pos))
    return out


def _amounts(text: str) -> list[float | None]:
    """The numbers written in ``text`` as values: 85,342 = 8万5,342 = 85342."""
    return [parse_number(m.replace(",", "")) for m in _AMOUNT.findall(normalize(text))]


def same_content(answer: str, reference: str, public: bool = False) -> bool:
    """Whether ``answer`` says what ``reference`` does in the same words: they differ only in
    particles, auxiliaries other than negation, and punctuation (ため / ために), and their
    numbers are the same values however written (85,342 / 8万5,342). Spelling counts: 下さい is
    not ください."""
    a, r = _words(answer, public), _words(reference, public)
    sm = difflib.SequenceMatcher(None, [x[0] for x in a], [x[0] for x in r], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal" and any(pos not in _FUNCTION_POS for _, pos in a[i1:i2] + r[j1:j2]):
            return False
    return _amounts(answer) == _amounts(reference)
