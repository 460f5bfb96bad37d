"""Per-item scorers and the reductions over them.

A scorer turns one item's outcome into a number; every metric reduces by the mean
(with standard error and a bootstrap interval, see ``jpeval.stats``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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


def keigo_correction(o: TextOutcome) -> float:
    """keigo.correction: 1 when the answer is an acceptable correction of ``sentence``: no keigo
    error left, the facts kept, none of the item's known wrong corrections (``wrong``) made,
    in any wording (``jpeval.metrics.rewrite``)."""
    from jpeval.metrics.rewrite import accepted_rewrite, keigo_ok

    return float(accepted_rewrite(o, "sentence", lambda a: keigo_ok(a, ())))


def keigo_conversion(o: TextOutcome) -> float:
    """keigo.conversion: 1 when the answer is an acceptable conversion of ``plain``: every type
    the item requires (``required``: sonkeigo, kenjogo, teineigo) present, no keigo error, the
    facts kept, none of the known wrong conversions (``wrong``) made, in any wording."""
    from jpeval.metrics.rewrite import accepted_rewrite, keigo_ok

    required = list(o.fields.get("required", []))
    return float(accepted_rewrite(o, "plain", lambda a: keigo_ok(a, required)))


def koyobun_rewrite(o: TextOutcome) -> float:
    """admin.koyobun_rewrite: 1 when no 公用文 rule violation is left (jpeval.text.koyobun; kana
    conjunctions allowed when the item's ``document`` is for residents), the answer is not the
    original ``sentence``, and it says what a reference says in the same words: particles,
    auxiliaries (not negation), punctuation, the writing of numbers and the forms the 2022
    document allows (サーバ, または in a notice) may differ, nothing else (the task asks to
    change only what the rules require; 停止 -> 休止 or 日曜日 -> 土曜日 is a change of
    content)."""
    from jpeval.metrics.rewrite import same_content
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
    return float(any(same_content(answer, r, public) for r in o.references))


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
