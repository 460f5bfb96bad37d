"""No-knowledge baselines: what a task scores for a reader who never reads for meaning.

A multiple-choice task measures its skill only if every heuristic that ignores meaning scores
near chance: the gold position, the longest or shortest option, the option closest to (or
farthest from) the prompt, the option most like (medoid) or unlike (outlier) the others, a
per-feature majority vote over options that are small edits of each other, and a classifier
that sees the options alone (cross-validated over items: the "hypothesis-only" baseline of the
NLI annotation-artifact studies). A heuristic more than ``TOLERANCE`` from chance is a cue a
model can learn instead of the skill. A generation task should give nothing for an empty
answer or a copy of its input.

Ties go neither way: an item where a heuristic cannot decide between k options, the gold
among them, counts 1/k.
"""

from __future__ import annotations

import difflib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jpeval.metrics import TextOutcome
from jpeval.task import Item, Task, _visible
from jpeval.text.normalize import normalize

TOLERANCE = 0.10  # a baseline further than this from chance is flagged
MIN_ITEMS = 20  # fewer items than this: shown, never flagged (too noisy to call)
MINIMAL_EDIT = 0.6  # options are "small edits of each other" above this mean pairwise ratio
FOLDS = 5


@dataclass(frozen=True)
class Baseline:
    """One heuristic's score on a task, over the ``n`` items it applies to."""

    name: str
    score: float | None  # None: applies to no item
    n: int
    chance: float
    above_only: bool = False  # flag only scores above chance (see ``_options_only``)

    def flagged(self, tolerance: float = TOLERANCE) -> bool:
        if self.score is None or self.n < MIN_ITEMS:
            return False
        gap = self.score - self.chance
        return (gap if self.above_only else abs(gap)) > tolerance + 1e-9


@dataclass(frozen=True)
class ArtifactReport:
    task: str
    version: int
    kind: str
    n: int
    metric: str | None  # generation: the primary metric the baselines are scored with
    baselines: tuple[Baseline, ...]

    def flags(self, tolerance: float = TOLERANCE) -> list[Baseline]:
        return [b for b in self.baselines if b.flagged(tolerance)]


@dataclass(frozen=True)
class _MC:
    options: list[str]  # normalised, without spaces
    prompt: str
    gold: int
    group: str | None = None  # what the item tests (the task's artifact_group field)


def check(task: Task, seed: int = 0) -> ArtifactReport:
    """Every no-knowledge baseline of one task (multiple choice or generation)."""
    s = task.spec
    if s.kind == "multiple_choice":
        baselines = _mc_baselines([_mc_item(task, i) for i in task.items], seed)
        metric = None
    else:
        baselines = _generation_baselines(task)
        metric = task.metrics[0].name
    return ArtifactReport(task.name, s.version, s.kind, len(task.items), metric, baselines)


# ---- multiple choice --------------------------------------------------------------------


def _squash(text: str) -> str:
    return normalize(text).replace(" ", "")


def _mc_item(task: Task, item: Item) -> _MC:
    assert task.spec.choices is not None
    options = [_squash(str(c)) for c in item.fields[task.spec.choices]]
    group = item.fields[task.spec.artifact_group] if task.spec.artifact_group else None
    return _MC(options, _squash(task.render(item)), int(item.fields[task.spec.answer]), group)


def _bigrams(text: str) -> Counter[str]:
    padded = f"\x02{text}\x03"
    return Counter(padded[i : i + 2] for i in range(len(padded) - 1))


def _dice(a: Counter[str], b: Counter[str]) -> float:
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 1.0


def _containment(option: str, prompt_grams: set[str]) -> float:
    """The share of the option's character bigrams that occur in the prompt."""
    grams = _bigrams(option)
    inner = [g for g in grams.elements() if "\x02" not in g and "\x03" not in g]
    return sum(g in prompt_grams for g in inner) / len(inner) if inner else 0.0


def _credit(scores: Sequence[float], gold: int) -> float:
    """1/k when the gold is among the k options with the top score, else 0."""
    top = max(scores)
    best = [i for i, v in enumerate(scores) if abs(v - top) <= 1e-12]
    return 1 / len(best) if gold in best else 0.0


def _mean_similarity(item: _MC) -> list[float]:
    grams = [_bigrams(o) for o in item.options]
    k = len(grams)
    return [sum(_dice(grams[i], grams[j]) for j in range(k) if j != i) / (k - 1) for i in range(k)]


def _minimal_edit(item: _MC) -> bool:
    opts = item.options
    pairs = [(a, b) for i, a in enumerate(opts) for b in opts[i + 1 :]]
    ratios = [difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() for a, b in pairs]
    return sum(ratios) / len(ratios) >= MINIMAL_EDIT


def _majority_vote(item: _MC) -> list[float]:
    """Per option, the number of differing features (character bigrams present in some options
    but not all) on which it sides with the majority of the options; ties between the sides
    carry no vote. The centre of a star of one-feature edits agrees on every feature."""
    present = [set(_bigrams(o)) for o in item.options]
    k = len(present)
    counts = Counter(g for p in present for g in p)
    votes = [0.0] * k
    for gram, c in counts.items():
        if c == k or 2 * c == k:
            continue
        majority_has = 2 * c > k
        for i, p in enumerate(present):
            votes[i] += (gram in p) == majority_has
    return votes


_Scorer = Callable[[_MC], Sequence[float]]


def _by_prompt(sign: float) -> _Scorer:
    def score(item: _MC) -> list[float]:
        grams = set(_bigrams(item.prompt))
        return [sign * _containment(o, grams) for o in item.options]

    return score


HEURISTICS: tuple[tuple[str, _Scorer, Callable[[_MC], bool] | None], ...] = (
    ("longest option", lambda it: [len(o) for o in it.options], None),
    ("shortest option", lambda it: [-len(o) for o in it.options], None),
    ("most overlap with the prompt", _by_prompt(1.0), None),
    ("least overlap with the prompt", _by_prompt(-1.0), None),
    ("most like the other options (medoid)", _mean_similarity, None),
    ("least like the other options (outlier)", lambda it: [-v for v in _mean_similarity(it)], None),
    ("per-feature majority vote (small-edit option sets)", _majority_vote, _minimal_edit),
)


def _mc_baselines(items: list[_MC], seed: int) -> tuple[Baseline, ...]:
    out = [_gold_position(items)]
    for name, scorer, applies in HEURISTICS:
        chosen = [it for it in items if applies is None or applies(it)]
        score = sum(_credit(scorer(it), it.gold) for it in chosen) / len(chosen) if chosen else None
        out.append(Baseline(name, score, len(chosen), _chance(chosen)))
    out.append(_options_only(items, seed))
    return tuple(out)


def _chance(items: Sequence[_MC]) -> float:
    return sum(1 / len(it.options) for it in items) / len(items) if items else 0.0


def _gold_position(items: list[_MC]) -> Baseline:
    """Always answer the same position: the best such position."""
    counts = Counter(it.gold for it in items)
    best = max(counts.values()) / len(items) if items else None
    return Baseline("always the same position (the best one)", best, len(items), _chance(items))


def _options_only(items: list[_MC], seed: int) -> Baseline:
    """Logistic regression on character 1-3-grams of each option alone (centred within its item,
    so it learns what sets an option apart from its siblings), cross-validated over items: by
    group when the task names what each item tests, so that only cues carrying across rules
    count (a rule learnt from items of the same rule is the skill, not a shortcut).

    Flagged only above chance: a learner cross-validated on balanced labels falls below chance
    by itself (the labels held out are those rarer in its training folds), which says nothing
    about the task."""
    grouped = items and items[0].group is not None
    name = "options-only classifier (char n-grams, " + (
        "5-fold by group)" if grouped else "5-fold)"
    )
    folds = _folds(items, seed)
    if folds is None:
        return Baseline(name, None, len(items), _chance(items), above_only=True)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    credit = 0.0
    for fold in range(max(folds) + 1):
        train = [it for i, it in enumerate(items) if folds[i] != fold]
        test = [it for i, it in enumerate(items) if folds[i] == fold]
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        vec.fit([o for it in train for o in it.options])
        x = _centred(vec, train)
        y = [int(j == it.gold) for it in train for j in range(len(it.options))]
        model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
        model.fit(x, y)
        for it in test:
            credit += _credit(list(model.decision_function(_centred(vec, [it]))), it.gold)
    return Baseline(name, credit / len(items), len(items), _chance(items), above_only=True)


def _folds(items: list[_MC], seed: int) -> list[int] | None:
    """The fold of each item: seeded round robin, or whole groups dealt to the folds (largest
    first, each to the fold with fewest items). None when there is too little to split."""
    if items and items[0].group is not None:
        sizes = Counter(str(it.group) for it in items)
        if len(sizes) < 2:
            return None
        k = min(FOLDS, len(sizes))
        load, fold_of = [0] * k, {}
        for g, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
            f = load.index(min(load))
            fold_of[g], load[f] = f, load[f] + n
        return [fold_of[str(it.group)] for it in items]
    if len(items) < 2 * FOLDS:
        return None
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    folds = [0] * len(items)
    for n, idx in enumerate(order):
        folds[idx] = n % FOLDS
    return folds


def _centred(vec: Any, items: list[_MC]) -> Any:
    """Each option's features minus its item's mean (sparse: a block-averaging product)."""
    from scipy import sparse

    x = vec.transform([o for it in items for o in it.options])
    blocks = [np.full((len(it.options), len(it.options)), 1 / len(it.options)) for it in items]
    return (x - sparse.block_diag(blocks, format="csr") @ x).tocsr()


# ---- generation -------------------------------------------------------------------------


def _generation_baselines(task: Task) -> tuple[Baseline, ...]:
    """The primary metric for an empty answer and for a copy of each input field the prompt
    shows (the sentence to rewrite, the notice to read...)."""
    metric = task.metrics[0]
    out = [Baseline("empty answer", _mean_score(task, metric, lambda it: ""), len(task.items), 0.0)]
    for fld in _shown_fields(task):
        with_field = [it for it in task.items if isinstance(it.fields.get(fld), str)]
        score = _mean_score(task, metric, lambda it, f=fld: str(it.fields[f]), with_field)  # type: ignore[misc]
        out.append(Baseline(f"copy of `{fld}`", score, len(with_field), 0.0))
    return tuple(out)


def _shown_fields(task: Task) -> list[str]:
    """String fields (other than the answer) whose value appears in most rendered prompts."""
    seen: Counter[str] = Counter()
    for it in task.items:
        prompt = task.render(it)
        for k, v in _visible(it.fields).items():
            if k not in (task.spec.answer, "id") and isinstance(v, str) and v and v in prompt:
                seen[k] += 1
    return [k for k, c in seen.items() if 2 * c >= len(task.items)]


def _mean_score(
    task: Task, metric: Any, answer: Callable[[Item], str], items: list[Item] | None = None
) -> float | None:
    items = task.items if items is None else items
    if not items:
        return None
    total = 0.0
    for it in items:
        refs = task._references(it)
        total += float(metric.score(TextOutcome(answer(it), refs, _visible(it.fields))))
    return total / len(items)


# ---- written answers --------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenCheck:
    """A generation task's primary metric on answers written for its items by someone who never
    saw the references: the correct ones should score near 1, the wrong ones near 0."""

    task: str
    metric: str
    correct: list[tuple[str, str, float]]  # (item id, answer, score)
    wrong: list[tuple[str, str, float]]

    @staticmethod
    def _mean(rows: list[tuple[str, str, float]]) -> float | None:
        return sum(s for _, _, s in rows) / len(rows) if rows else None

    @property
    def correct_mean(self) -> float | None:
        return self._mean(self.correct)

    @property
    def wrong_mean(self) -> float | None:
        return self._mean(self.wrong)


def check_written(task: Task, answers: Sequence[dict[str, Any]]) -> WrittenCheck:
    """Score ``answers`` (``{"id", "correct": [text], "wrong": [text or {"text"}]}`` per item)
    with the task's primary metric, as the runner would for a model's answer."""
    metric: Any = task.metrics[0]
    items = {str(it.fields["id"]): it for it in task.items + task.shots}
    correct: list[tuple[str, str, float]] = []
    wrong: list[tuple[str, str, float]] = []
    for row in answers:
        item = items.get(str(row["id"]))
        if item is None:
            raise KeyError(f"{task.name}: no item with id {row['id']!r}")
        refs, fields = task._references(item), _visible(item.fields)
        for kind, out in (("correct", correct), ("wrong", wrong)):
            for a in row.get(kind, []):
                text = a["text"] if isinstance(a, dict) else str(a)
                score = float(metric.score(TextOutcome(text, refs, fields)))
                out.append((str(row["id"]), text, score))
    return WrittenCheck(task.name, metric.name, correct, wrong)
