"""What a run writes to disk: schema-versioned pydantic models and atomic writers.

Layout: ``<output>/<model-slug>/<run-id>.json`` (scores + provenance) and
``<output>/<model-slug>/<run-id>/samples/<task>.jsonl`` (one line per item). The
samples folder is written first and the results file last, each by rename, so a
results file on disk always describes a complete run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sample(_Record):
    """One item's prompt, raw outputs, prediction, gold answer and scores."""

    schema_version: int = SCHEMA_VERSION
    task: str
    id: str
    prompt: str | list[dict[str, str]]
    choices: list[str] | None = None
    loglikelihoods: list[float] | None = None
    is_greedy: list[bool] | None = None
    pred_index: int | None = None
    gold_index: int | None = None
    generation: str | None = None
    prediction: str
    gold: str
    references: list[str] | None = None
    scores: dict[str, float]
    judgement: str | None = Field(default=None, description="the judge model's text, if judged")


class MetricValue(_Record):
    mean: float
    stderr: float


class TaskScore(_Record):
    name: str
    category: str
    version: int
    kind: str
    mode: str = Field(
        description="loglikelihood: options scored; generate: the model wrote its answer"
    )
    metric: str = Field(description="the primary metric, reported as `score`")
    score: float
    stderr: float
    ci95: tuple[float, float]
    n: int
    metrics: dict[str, MetricValue]
    chat: bool
    data_sha256: str
    prompt_sha256: str
    fewshot_ids: list[str]
    samples_file: str
    item_scores: list[float] | None = Field(
        default=None, description="the primary metric per item, in samples order (for intervals)"
    )
    chance: float | None = Field(default=None, description="expected score of random choice")


class CategoryScore(_Record):
    score: float = Field(description="unweighted mean of its tasks' primary scores")
    tasks: list[str]


class ModelInfo(_Record):
    name: str
    display_name: str
    backend: str
    model: str
    origin: str
    fingerprint: dict[str, Any]


class Requests(_Record):
    total: int = Field(description="requests of all items, before deduplication")
    unique: int
    cached: int = Field(description="served from the request cache (not recomputed)")
    computed: int
    usage: dict[str, int] | None = Field(
        default=None, description="tokens billed by an API backend for the computed requests"
    )


class Provenance(_Record):
    jpeval_version: str
    git_commit: str | None
    git_dirty: bool | None
    command: list[str]
    python: str
    platform: str
    hardware: dict[str, Any]
    libraries: dict[str, str]
    normalizer_version: str
    seed: int
    limit: int | None
    batch_size: int
    started_at: str
    finished_at: str
    timings: dict[str, float]


class JudgeInfo(_Record):
    """The LLM judge of a run (``--judge``): which model, which rubrics, how it went."""

    model: str
    backend: str
    fingerprint: dict[str, Any]
    rubric_sha256: dict[str, str] = Field(description="task -> hash of its rubric")
    requests: int
    cached: int
    invalid: dict[str, int] = Field(description="task -> judgements without a valid score")


class RunResult(_Record):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    model: ModelInfo
    tasks: dict[str, TaskScore]
    categories: dict[str, CategoryScore]
    requests: Requests
    provenance: Provenance
    judge: JudgeInfo | None = None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable by time, unique across concurrent runs."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def to_json(obj: Any) -> str:
    """Compact JSON that keeps any string exactly and is always valid UTF-8: a lone surrogate
    (an API may send one in model output) is written as its escape (``\\ud800``), which
    ``json.loads`` reads back as the same string."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def sample_json(sample: Sample) -> str:
    """One samples-file line (model output kept exactly, see ``to_json``)."""
    return to_json(sample.model_dump(mode="json"))


def write_run(out_dir: Path, result: RunResult, samples: Mapping[str, Iterable[Sample]]) -> Path:
    """Write samples, then the results file; never overwrite another run's files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    final_samples = out_dir / result.run_id
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{result.run_id}."))
    try:
        (staging / "samples").mkdir()
        for task, rows in samples.items():
            lines = "".join(sample_json(s) + "\n" for s in rows)
            atomic_write_text(staging / "samples" / f"{task}.jsonl", lines)
        os.rename(staging, final_samples)  # fails if a run with this id exists
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    path = out_dir / f"{result.run_id}.json"
    if path.exists():
        raise FileExistsError(path)
    atomic_write_text(path, result.model_dump_json(indent=2) + "\n")
    return path
