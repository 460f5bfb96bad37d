"""Per-item scorers and the reductions over them.

A scorer turns one item's outcome into a number; every metric reduces by the mean
(with standard error and a bootstrap interval, see ``jpeval.stats``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jpeval.registry import Registry
from jpeval.text.normalize import normalize


@dataclass(frozen=True)
class ChoiceOutcome:
    """A multiple-choice item after scoring every option."""

    logprobs: Sequence[float]
    choices: Sequence[str]
    gold: int


@dataclass(frozen=True)
class TextOutcome:
    """A generation item: the extracted prediction and the accepted references."""

    prediction: str
    references: Sequence[str]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "multiple_choice" | "generate"
    score: Callable[[ChoiceOutcome], float] | Callable[[TextOutcome], float]


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; ties go to the first (deterministic)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


def accuracy(o: ChoiceOutcome) -> float:
    return float(argmax(o.logprobs) == o.gold)


def accuracy_norm(o: ChoiceOutcome) -> float:
    """Accuracy with each option's log-likelihood divided by its length in characters."""
    per_char = [lp / max(len(c), 1) for lp, c in zip(o.logprobs, o.choices, strict=True)]
    return float(argmax(per_char) == o.gold)


def exact_match(o: TextOutcome) -> float:
    pred = normalize(o.prediction)
    return float(any(pred == normalize(r) for r in o.references))


def _char_f1(pred: str, ref: str) -> float:
    p, r = Counter(pred.replace(" ", "")), Counter(ref.replace(" ", ""))
    common = sum((p & r).values())
    if not p or not r:
        return float(p == r)
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def char_f1(o: TextOutcome) -> float:
    """Character-level F1 (bag of characters, as in JSQuAD), best over references."""
    pred = normalize(o.prediction)
    return max(_char_f1(pred, normalize(r)) for r in o.references)


METRICS: Registry[Metric] = Registry("metric")


def _fixed(metric: Metric) -> Callable[[], Metric]:
    return lambda: metric


for _m in (
    Metric("accuracy", "multiple_choice", accuracy),
    Metric("accuracy_norm", "multiple_choice", accuracy_norm),
    Metric("exact_match", "generate", exact_match),
    Metric("char_f1", "generate", char_f1),
):
    METRICS.register(_m.name, _fixed(_m))
