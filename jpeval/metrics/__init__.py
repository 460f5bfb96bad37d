"""Per-item scorers and the reductions over them.

A scorer turns one item's outcome into a number; every metric reduces by the mean
(with standard error and a bootstrap interval, see ``jpeval.stats``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from jpeval.registry import Registry
from jpeval.text.normalize import normalize

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # option labels for generated answers


@dataclass(frozen=True)
class ChoiceOutcome:
    """A multiple-choice item: each option's log-likelihood (None when the model generated its
    answer), the options, the gold index and the predicted index (None: no answer found)."""

    logprobs: Sequence[float] | None
    choices: Sequence[str]
    gold: int
    pred: int | None


@dataclass(frozen=True)
class TextOutcome:
    """A generation item: the prediction, the accepted references and the item's own fields
    (for metrics that check per-item requirements)."""

    prediction: str
    references: Sequence[str]
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "multiple_choice" | "generate"
    score: Callable[[ChoiceOutcome], float] | Callable[[TextOutcome], float]


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; ties go to the first (deterministic)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def accuracy(o: ChoiceOutcome) -> float:
    return float(o.pred == o.gold)


def accuracy_norm(o: ChoiceOutcome) -> float:
    """Accuracy with each option's log-likelihood divided by its length in characters.

    A generated answer has no length bias to correct: it scores as plain accuracy.
    """
    if o.logprobs is None:
        return accuracy(o)
    per_char = [lp / max(len(c), 1) for lp, c in zip(o.logprobs, o.choices, strict=True)]
    return float(argmax(per_char) == o.gold)


_LEAD_LABEL = re.compile(
    r"^[\s(（\[「]*(?:答え|正解|回答)?[はがを]?[\s:：]*[(（\[「]?([A-Z])(?=$|[\s.．、。:：)）」\]]|です)"
)
_ANY_LABEL = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")


def extract_choice(text: str, choices: Sequence[str], answer_format: str) -> int | None:
    """The option a generated answer picks, or None.

    ``text`` format (JamC-QA's protocol): the answer must equal one option after normalisation.
    ``label`` format: a leading label (``A``, ``(B)``, ``答え：C``), else the only label mentioned,
    else the only option whose text appears in the answer.
    """
    answer = normalize(text)
    norm = [normalize(c) for c in choices]
    if answer_format == "text":
        return norm.index(answer) if answer in norm else None
    labels = LABELS[: len(choices)]
    first = answer.split("\n", 1)[0]
    if (m := _LEAD_LABEL.match(first)) and m.group(1) in labels:
        return labels.index(m.group(1))
    found = {m.group(1) for m in _ANY_LABEL.finditer(answer)} & set(labels)
    if len(found) == 1:
        return labels.index(found.pop())
    hits = [i for i, c in enumerate(norm) if c and c in answer]
    return hits[0] if len(hits) == 1 else None


def exact_match(o: TextOutcome) -> float:
    pred = normalize(o.prediction)
    return float(any(pred == normalize(r) for r in o.references))


def _bag_f1(pred: list[str], ref: list[str]) -> float:
    """F1 of two bags of tokens (characters or morphemes)."""
    p, r = Counter(pred), Counter(ref)
    if not p or not r:
        return float(p == r)
    common = sum((p & r).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def char_f1(o: TextOutcome) -> float:
    """Character-level F1 (bag of characters, as in JSQuAD), best over references."""
    pred = normalize(o.prediction)
    chars = list(pred.replace(" ", ""))
    return max(_bag_f1(chars, list(normalize(r).replace(" ", ""))) for r in o.references)


_COPULA = re.compile(r"(?:です|でした|となります|になります|に(?:あた|当た)(?:ります|る)|だ)$")
_LEAD = re.compile(r"^(?:答え\s*[:：]?\s*|西暦\s*(?=[0-9]))?(?:満\s*(?=[0-9]))?")


def _bare(text: str) -> str:
    """A short answer without the words around its value: 「満42歳です。」 -> 「42歳」, a note in
    brackets dropped (「明治23年（1890年）8月5日」, 「令和（れいわ）」), and a restated question
    before the last は dropped (「明治33年は1900年です」 -> 「1900年」)."""
    s = re.sub(r"\([^()]*\)", "", normalize(text.split("\n", 1)[0]))
    s = s.rsplit("は", 1)[-1].strip().lstrip("、,")
    return _LEAD.sub("", _COPULA.sub("", s.strip()).rstrip()).strip()


def date_match(o: TextOutcome) -> float:
    """Exact match of dates whatever their spelling (元年 = 1年, 全角, 2019/5/1 = 2019年5月1日),
    keeping the calendar: a 西暦 answer to a 和暦 question is wrong. Answers that are not dates
    (ages, 年度) match when the answer is, or ends in, the reference's value (…の時点で満48歳で
    す). A closing です or にあたります, a leading 西暦 or 満 and 「答え：」 are not part of the
    answer."""
    from jpeval.text.wareki import canonical_date

    answer = _bare(o.prediction)
    pred = canonical_date(answer)
    for ref in o.references:
        want = canonical_date(ref)
        if want is None and re.search(rf"(?:^|[^0-9]){re.escape(_bare(ref))}$", answer):
            return 1.0  # the value, or a sentence ending in it (…の時点で満48歳です)
        if want is not None and pred == want:
            return 1.0
    return 0.0


def notice_answer(o: TextOutcome) -> float:
    """admin.notice_qa: 1 when the answer's first line states a reference's value (a date with
    or without its era, year or weekday, a time, an amount, a quantity) and most of its content
    words (places, documents), whatever the wording (``jpeval.metrics.facts``)."""
    from jpeval.metrics.facts import answer_matches

    answer = o.prediction.split("\n", 1)[0]
    if not answer.strip():
        return 0.0
    return float(any(answer_matches(answer, r, o.references) for r in o.references))


def morph_f1(o: TextOutcome) -> float:
    """F1 over morphemes (fugashi + unidic-lite), best over references."""
    from jpeval.text.segment import morphemes

    pred = morphemes(o.prediction.split("\n", 1)[0])
    return max(_bag_f1(pred, morphemes(r)) for r in o.references)


def keigo_ok(text: str, required: Sequence[str]) -> bool:
    """No keigo error, and every required type present. The listener's action is honoured by
    尊敬語 (お〜になる, or 〜れる: 読まれましたか) or by お〜いただく / 〜ていただく
    (謙譲語Ⅰ raising the giver): each meets ``sonkeigo`` (お読みになりましたか =
    お読みいただけましたか)."""
    from jpeval.text.keigo import analyze

    a = analyze(text)
    respect = a.sonkeigo or a.benefactive or (bool(required) and _reru(text))
    present = {"sonkeigo": respect, "kenjogo": a.kenjogo, "teineigo": a.teineigo}
    return not a.errors and all(present[t] for t in required)


def _reru(text: str) -> bool:
    """Whether a verb takes れる/られる (読まれる, 来られる): 尊敬語 when the sentence it rewrites
    had none, as in a conversion; the analyser leaves it open (it is also passive and potential)."""
    from jpeval.text.segment import tagger

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
    from jpeval.text.segment import morphemes

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
    from jpeval.text.segment import tagger

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
    from jpeval.text.values import same, values

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
    from jpeval.text.values import _number

    found = re.findall(
        r"[0-9〇一二三四五六七八九十百千万][0-9,.〇一二三四五六七八九十百千万]*", normalize(text)
    )
    return {n for n in (_number(x.replace(",", "")) for x in found) if n is not None}


def _negations(text: str) -> int:
    """How many verbs ``text`` negates (ない, ぬ as in ません, ず), not counting a negative
    question that asks a favour (お伝えいただけないでしょうか, いただけませんか), 申し訳
    ございません, or adjectives (お変わりない)."""
    from jpeval.text.segment import tagger

    words = list(tagger()(normalize(text)))
    return sum(
        (w.feature.lemma or "") in _NEGATION
        and w.feature.pos1 == "助動詞"
        and not (i + 1 < len(words) and words[i + 1].surface in {"でしょう", "か", "です"})
        and "申し訳" not in "".join(x.surface for x in words[max(0, i - 4) : i])
        for i, w in enumerate(words)
    )


def _accepted_rewrite(o: TextOutcome, source_field: str, ok: Callable[[str], bool]) -> bool:
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


def keigo_correction(o: TextOutcome) -> float:
    """keigo.correction: 1 when the answer is an acceptable correction of ``sentence``: no keigo
    error left, the facts kept, none of the item's known wrong corrections (``wrong``) made,
    in any wording (``_accepted_rewrite``)."""
    return float(_accepted_rewrite(o, "sentence", lambda a: keigo_ok(a, ())))


def keigo_conversion(o: TextOutcome) -> float:
    """keigo.conversion: 1 when the answer is an acceptable conversion of ``plain``: every type
    the item requires (``required``: sonkeigo, kenjogo, teineigo) present, no keigo error, the
    facts kept, none of the known wrong conversions (``wrong``) made, in any wording."""
    required = list(o.fields.get("required", []))
    return float(_accepted_rewrite(o, "plain", lambda a: keigo_ok(a, required)))


# parts of speech a rewrite may add, drop or change without changing what the sentence says
# (negation is not among them: ない, ぬ, ず are content)
_FUNCTION_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}
_NEGATION = {"ない", "ぬ", "ず", "無い"}
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
    from jpeval.text.segment import tagger

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
    from jpeval.text.values import _number

    return [_number(m.replace(",", "")) for m in _AMOUNT.findall(normalize(text))]


def _same_content(answer: str, reference: str, public: bool = False) -> bool:
    """Whether ``answer`` says what ``reference`` does in the same words: they differ only in
    particles, auxiliaries other than negation, and punctuation (ため / ために), and their
    numbers are the same values however written (85,342 / 8万5,342). Spelling counts: 下さい is
    not ください."""
    import difflib

    a, r = _words(answer, public), _words(reference, public)
    sm = difflib.SequenceMatcher(None, [x[0] for x in a], [x[0] for x in r], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal" and any(pos not in _FUNCTION_POS for _, pos in a[i1:i2] + r[j1:j2]):
            return False
    return _amounts(answer) == _amounts(reference)


def koyobun_rewrite(o: TextOutcome) -> float:
    """admin.koyobun_rewrite: 1 when no 公用文 rule violation is left (jpeval.text.koyobun; kana
    conjunctions allowed when the item's ``document`` is for residents), the answer is not the
    original ``sentence``, and it says what a reference says in the same words: particles,
    auxiliaries (not negation), punctuation, the writing of numbers and the forms the 2022
    document allows (サーバ, または in a notice) may differ, nothing else (the task asks to
    change only what the rules require; 停止 -> 休止 or 日曜日 -> 土曜日 is a change of
    content)."""
    from jpeval.text.koyobun import check, is_public

    answer = o.prediction.split("\n", 1)[0].strip()
    source = o.fields.get("sentence")
    public = is_public(str(o.fields.get("document", "")))
    if (
        not answer
        or check(answer, public)
        or (isinstance(source, str) and answer == source.strip())
    ):
        return 0.0
    return float(any(_same_content(answer, r, public) for r in o.references))


def yasashii_readability(o: TextOutcome) -> float:
    """The fraction of やさしい日本語 rules the answer keeps (jpeval.text.yasashii)."""
    from jpeval.text.yasashii import readability

    return readability(o.prediction.split("\n", 1)[0])


def _numbers(text: str) -> set[str]:
    """The numbers written in ``text`` (NFKC, thousands separators dropped): dates, times, fees."""
    return set(re.findall(r"[0-9]+", re.sub(r"(?<=[0-9])[,，](?=[0-9]{3})", "", normalize(text))))


def number_recall(o: TextOutcome) -> float:
    """The share of a reference's numbers (dates, times, fees, counts) the answer keeps, best
    over references; 1 when the references hold none."""
    found = _numbers(o.prediction.split("\n", 1)[0])
    best = 0.0
    for ref in o.references:
        want = _numbers(ref)
        best = max(best, len(want & found) / len(want) if want else 1.0)
    return best


# rules of jpeval.text.yasashii that the admin.yasashii prompt does not state: they count in
# yasashii_readability, not in whether a rewrite is accepted (a careful rewrite that keeps a
# hard word beside its explanation can pass 40% kanji)
_UNSTATED = {"kanji_ratio"}


def yasashii_rewrite(o: TextOutcome) -> float:
    """admin.yasashii: 1 when the answer keeps every rule of jpeval.text.yasashii that the prompt
    states (not the kanji ratio; a gloss in brackets after a hard word is allowed) and states
    every fact the item requires (``facts``: one list of accepted wordings per fact, values such
    as dates and amounts compared by value, jpeval.metrics.facts); items without ``facts`` need
    every number of a reference. 0 for the ``notice`` copied. Wording, order and sentence
    splits are free."""
    from jpeval.metrics.facts import states_fact
    from jpeval.text.yasashii import check

    answer = o.prediction.split("\n", 1)[0]
    notice = o.fields.get("notice")
    if not answer.strip() or any(p.rule not in _UNSTATED for p in check(answer)):
        return 0.0
    if isinstance(notice, str) and normalize(answer) == normalize(notice):
        return 0.0
    facts = o.fields.get("facts")
    if isinstance(facts, list):
        return float(all(states_fact(answer, [str(w) for w in f]) for f in facts))
    return float(number_recall(o) == 1.0)


METRICS: Registry[Metric] = Registry("metric")


def _fixed(metric: Metric) -> Callable[[], Metric]:
    return lambda: metric


for _m in (
    Metric("accuracy", "multiple_choice", accuracy),
    Metric("accuracy_norm", "multiple_choice", accuracy_norm),
    Metric("exact_match", "generate", exact_match),
    Metric("char_f1", "generate", char_f1),
    Metric("date_match", "generate", date_match),
    Metric("morph_f1", "generate", morph_f1),
    Metric("notice_answer", "generate", notice_answer),
    Metric("keigo_correction", "generate", keigo_correction),
    Metric("keigo_conversion", "generate", keigo_conversion),
    Metric("koyobun_rewrite", "generate", koyobun_rewrite),
    Metric("yasashii_rewrite", "generate", yasashii_rewrite),
    Metric("yasashii_readability", "generate", yasashii_readability),
):
    METRICS.register(_m.name, _fixed(_m))
