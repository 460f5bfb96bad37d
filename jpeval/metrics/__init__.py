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


def date_match(o: TextOutcome) -> float:
    """Exact match of dates whatever their spelling (元年 = 1年, 全角, 2019/5/1 = 2019年5月1日),
    keeping the calendar: a 西暦 answer to a 和暦 question is wrong. Answers that are not dates
    (ages, 年度) fall back to normalised exact match."""
    from jpeval.text.wareki import canonical_date

    pred = canonical_date(o.prediction.split("\n", 1)[0])
    for ref in o.references:
        want = canonical_date(ref)
        if want is None and normalize(o.prediction) == normalize(ref):
            return 1.0
        if want is not None and pred == want:
            return 1.0
    return 0.0


def morph_f1(o: TextOutcome) -> float:
    """F1 over morphemes (fugashi + unidic-lite), best over references."""
    from jpeval.text.segment import morphemes

    pred = morphemes(o.prediction.split("\n", 1)[0])
    return max(_bag_f1(pred, morphemes(r)) for r in o.references)


def _keigo_ok(text: str, required: Sequence[str]) -> bool:
    from jpeval.text.keigo import analyze

    a = analyze(text)
    return not a.errors and all(getattr(a, t) for t in required)


def _rewrite_score(o: TextOutcome, source_field: str, ok: Callable[[str], bool]) -> float:
    """Morpheme F1 to the references, or 0 when the answer is empty, fails the rule check
    ``ok``, is the original sentence unchanged, or is closer to it than to the references.
    (Morphemes are compared after normalisation, so a fix of 全角 digits or ．is invisible
    to F1: the exact-copy test catches the unchanged answer.)"""
    answer = o.prediction.split("\n", 1)[0]
    if not answer.strip() or not ok(answer):
        return 0.0
    best = morph_f1(o)
    source = o.fields.get(source_field)
    if isinstance(source, str) and (
        answer.strip() == source.strip() or morph_f1(TextOutcome(answer, [source])) > best
    ):
        return 0.0
    return best


def keigo_correction(o: TextOutcome) -> float:
    """keigo.correction: the error must be gone and the answer closer to a reference than to
    the original ``sentence``; then its morpheme F1 to the references."""
    return _rewrite_score(o, "sentence", lambda a: _keigo_ok(a, ()))


def keigo_conversion(o: TextOutcome) -> float:
    """keigo.conversion: every type the item requires (``required``: sonkeigo, kenjogo,
    teineigo) present, no keigo error, closer to a reference than to ``plain``; then F1."""
    required = list(o.fields.get("required", []))
    return _rewrite_score(o, "plain", lambda a: _keigo_ok(a, required))


def koyobun_rewrite(o: TextOutcome) -> float:
    """admin.koyobun_rewrite: no 公用文 rule violation left (jpeval.text.koyobun) and closer to a
    reference than to the original ``sentence``; then its morpheme F1 to the references."""
    from jpeval.text.koyobun import check

    return _rewrite_score(o, "sentence", lambda a: not check(a))


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


def yasashii_rewrite(o: TextOutcome) -> float:
    """admin.yasashii: readability (fraction of rules kept) x morpheme F1 to the references x
    the share of the reference's numbers kept (a wrong date, time or fee costs); 0 when the
    answer is the original ``notice`` or closer to it than to the references."""
    return yasashii_readability(o) * number_recall(o) * _rewrite_score(o, "notice", lambda a: True)


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
    Metric("keigo_correction", "generate", keigo_correction),
    Metric("keigo_conversion", "generate", keigo_conversion),
    Metric("koyobun_rewrite", "generate", koyobun_rewrite),
    Metric("yasashii_rewrite", "generate", yasashii_rewrite),
    Metric("yasashii_readability", "generate", yasashii_readability),
):
    METRICS.register(_m.name, _fixed(_m))
