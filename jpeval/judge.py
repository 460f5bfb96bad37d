"""LLM-as-judge: a second model scores generated answers against a task's rubric.

A task opts in with a ``judge:`` rubric in its task.yaml; a run uses it when given a judge model
(``jpeval run --judge MODEL``, any backend). Judge requests are ordinary generation requests,
cached in the results folder like the model's own (``.cache/judge-<name>.sqlite``). The judge
must write its score as 「評価：N」 (N within the rubric's scale); anything else is an invalid
judgement, scored 0 and counted. The score is rescaled to [0, 1] and reported as the metric
``judge``; results record the judge model, its fingerprint and each rubric's hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from jpeval.backends import Backend
from jpeval.cache import RequestCache
from jpeval.requests import Generate, Message, Request, request_key
from jpeval.results import JudgeInfo, Sample
from jpeval.spec import JudgeSpec, ModelSpec
from jpeval.task import Item, Task

JUDGE_METRIC = "judge"
_SCORE = re.compile(r"評価\s*[:：]\s*([0-9]+(?:\.[0-9]+)?)")


def parse_score(text: str, scale: tuple[int, int]) -> float | None:
    """The judge's score rescaled to [0, 1], or None when it wrote no valid 「評価：N」.

    The last 「評価：N」 counts (a judge may quote the format before answering); N must be an
    integer within the scale."""
    found = _SCORE.findall(unicodedata.normalize("NFKC", text))
    if not found:
        return None
    value = float(found[-1])
    lo, hi = scale
    if value != int(value) or not lo <= value <= hi:
        return None
    return (value - lo) / (hi - lo)


def judge_samples(
    tasks: Sequence[Task],
    items: dict[tuple[str, str], Item],
    samples: dict[str, list[Sample]],
    spec: ModelSpec,
    backend: Backend,
    cache: RequestCache | None,
    execute: Callable[..., tuple[dict[str, Any], int]],
) -> JudgeInfo:
    """Add the ``judge`` score (and the judge's text) to every sample of the judged tasks."""
    chat = backend.has_chat_template
    todo: list[tuple[Sample, JudgeSpec, str]] = []
    unique: dict[str, Request] = {}
    rubrics: dict[str, str] = {}
    for task in tasks:
        if task.spec.judge is None:
            continue
        rubrics[task.name] = hashlib.sha256(task.spec.judge.rubric.encode()).hexdigest()
        for s in samples.get(task.name, []):
            text = task.judge_prompt(items[task.name, s.id], s.generation or "")
            req = Generate(
                (Message("user", text),) if chat else text, max_tokens=task.spec.judge.max_tokens
            )
            key = request_key(req)
            unique[key] = req
            todo.append((s, task.spec.judge, key))
    outputs, n_cached = execute(backend, unique, cache)
    invalid: dict[str, int] = {}
    for s, judge, key in todo:
        verdict = str(outputs[key])
        score = parse_score(verdict, judge.scale)
        if score is None:
            invalid[s.task] = invalid.get(s.task, 0) + 1
        s.scores[JUDGE_METRIC] = score or 0.0
        s.judgement = verdict
    return JudgeInfo(
        model=spec.name,
        backend=spec.backend,
        fingerprint=json.loads(json.dumps(backend.fingerprint())),
        rubric_sha256=rubrics,
        requests=len(unique),
        cached=n_cached,
        invalid={t: invalid.get(t, 0) for t in rubrics},
    )
