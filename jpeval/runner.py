"""The run, in small stages: select tasks → plan requests → execute (cache + backend)
→ score → summarise → write. Each stage is a function that can be tested alone."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pydantic
from tqdm import tqdm

import jpeval
from jpeval.backends import BACKENDS, Backend, BackendOptions
from jpeval.cache import RequestCache
from jpeval.errors import JpevalError
from jpeval.judge import JUDGE_METRIC, judge_samples
from jpeval.models import model_path, resolve_model
from jpeval.paths import configs_dir
from jpeval.registry import did_you_mean, discover_tasks
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, Request, request_key
from jpeval.results import (
    CategoryScore,
    JudgeInfo,
    MetricValue,
    ModelInfo,
    Provenance,
    Requests,
    RunResult,
    Sample,
    TaskScore,
    new_run_id,
    utc_now,
    write_run,
)
from jpeval.spec import ModelSpec, SuiteSpec, load_spec
from jpeval.stats import bootstrap_ci, mean_stderr
from jpeval.task import Item, Task
from jpeval.text.normalize import NORMALIZER_VERSION

LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "accelerate",
    "vllm",
    "pydantic",
    "jinja2",
    "numpy",
    "fugashi",
)


@dataclass(frozen=True)
class RunConfig:
    model: str
    tasks: tuple[str, ...] = ()
    suite: str | None = None
    include: tuple[Path, ...] = ()
    limit: int | None = None
    batch_size: int = 16
    output: Path = Path("results")
    seed: int = 1234
    device: str | None = None
    use_cache: bool = True
    model_args: Mapping[str, Any] = field(default_factory=dict)  # over the entry's options
    judge: str | None = None  # a judge model for tasks with a judge rubric


# ---- 1. tasks ----------------------------------------------------------------------------


def load_suite(name: str) -> SuiteSpec:
    suites = {p.stem: p for p in (configs_dir() / "suites").glob("*.yaml")}
    if name not in suites:
        raise JpevalError(
            f"unknown suite {name!r}.{did_you_mean(name, suites)} "
            f"Known: {', '.join(sorted(suites))}."
        )
    return load_spec(suites[name], SuiteSpec)


def select_tasks(patterns: Sequence[str], include: Sequence[Path] = ()) -> list[Task]:
    """Load the tasks whose names match any pattern (exact names or globs like ``keigo.*``)."""
    known = discover_tasks(include)
    chosen: list[str] = []
    for pat in patterns:
        hits = sorted(n for n in known if fnmatch.fnmatchcase(n, pat))
        if not hits:
            raise JpevalError(
                f"no task matches {pat!r}.{did_you_mean(pat, known)} See `jpeval tasks`."
            )
        chosen += [h for h in hits if h not in chosen]
    return [Task.load(known[name]) for name in chosen]


# ---- 2. plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    task: Task
    item: Item
    chat: bool
    keys: tuple[str, ...]


@dataclass
class Plan:
    entries: list[Planned] = field(default_factory=list)
    unique: dict[str, Request] = field(default_factory=dict)
    total: int = 0


def use_chat(task: Task, backend: Backend) -> bool:
    policy = task.spec.chat
    if policy == "always" and not backend.has_chat_template:
        raise JpevalError(
            f"task {task.name} needs a chat template (chat: always), and this model has none"
        )
    return policy == "always" or (policy == "auto" and backend.has_chat_template)


def plan_requests(tasks: Sequence[Task], chat: dict[str, bool], limit: int | None) -> Plan:
    """Every request of every item, deduplicated by content."""
    plan = Plan()
    for task in tasks:
        for item in task.items[:limit]:
            reqs = task.requests(item, chat[task.name])
            keys = tuple(request_key(r) for r in reqs)
            plan.entries.append(Planned(task, item, chat[task.name], keys))
            plan.total += len(reqs)
            for k, r in zip(keys, reqs, strict=True):
                plan.unique.setdefault(k, r)
    return plan


# ---- 3. execute --------------------------------------------------------------------------


def _chunks(keys: list[str], reqs: dict[str, Request], size: int | None) -> Iterator[list[str]]:
    """Consecutive slices of about ``size`` keys that never split a shared context."""
    if not size:
        yield keys
        return
    chunk: list[str] = []
    for k in keys:
        r = reqs[k]
        ctx = r.context if isinstance(r, Loglikelihood) else None
        prev = reqs[chunk[-1]] if chunk else None
        same_ctx = isinstance(prev, Loglikelihood) and ctx is not None and prev.context == ctx
        if len(chunk) >= size and not same_ctx:
            yield chunk
            chunk = []
        chunk.append(k)
    if chunk:
        yield chunk


def _encode(result: LoglikelihoodResult | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"text": result}
    return {"logprob": result.logprob, "is_greedy": result.is_greedy, "n_tokens": result.n_tokens}


def _decode(value: dict[str, Any]) -> LoglikelihoodResult | str:
    if "text" in value:
        return str(value["text"])
    return LoglikelihoodResult(
        float(value["logprob"]), bool(value["is_greedy"]), int(value["n_tokens"])
    )


def execute(
    backend: Backend, unique: dict[str, Request], cache: RequestCache | None
) -> tuple[dict[str, LoglikelihoodResult | str], int]:
    """Serve cached requests, send the rest to the backend chunk by chunk, caching each chunk.

    Returns every result by key, and how many came from the cache.
    """
    done = {k: _decode(v) for k, v in (cache.get_many(unique) if cache else {}).items()}
    n_cached = len(done)
    todo = [k for k in unique if k not in done]
    kinds: list[tuple[str, Callable[[Any], Sequence[LoglikelihoodResult | str]]]] = [
        ("loglikelihood", backend.loglikelihood),
        ("generate", backend.generate),
    ]
    with tqdm(
        total=len(todo), unit="req", desc="requests", disable=None, dynamic_ncols=True
    ) as bar:
        for kind, method in kinds:
            want = Loglikelihood if kind == "loglikelihood" else Generate
            keys = [k for k in todo if isinstance(unique[k], want)]
            for chunk in _chunks(keys, unique, backend.chunk_size):
                results = method([unique[k] for k in chunk])
                if len(results) != len(chunk):
                    raise RuntimeError(
                        f"backend returned {len(results)} results for {len(chunk)} requests"
                    )
                fresh = dict(zip(chunk, results, strict=True))
                if cache:
                    cache.put_many({k: _encode(v) for k, v in fresh.items()})
                done.update(fresh)
                bar.update(len(chunk))
    return done, n_cached


# ---- 4. score and summarise --------------------------------------------------------------


def score(plan: Plan, outputs: dict[str, LoglikelihoodResult | str]) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {}
    for e in plan.entries:
        s = e.task.score(e.item, [outputs[k] for k in e.keys], e.chat)
        samples.setdefault(e.task.name, []).append(s)
    return samples


def summarise(
    tasks: Sequence[Task],
    samples: dict[str, list[Sample]],
    chat: dict[str, bool],
    seed: int,
    run_id: str,
) -> tuple[dict[str, TaskScore], dict[str, CategoryScore]]:
    scores: dict[str, TaskScore] = {}
    for task in tasks:
        rows = samples.get(task.name, [])
        metrics = {}
        names = [m.name for m in task.metrics]
        if rows and all(JUDGE_METRIC in s.scores for s in rows):
            names.append(JUDGE_METRIC)
        for name in names:
            mean, se = mean_stderr([s.scores[name] for s in rows])
            metrics[name] = MetricValue(mean=mean, stderr=se)
        primary = task.metrics[0].name
        scores[task.name] = TaskScore(
            name=task.name,
            category=task.spec.category,
            version=task.spec.version,
            kind=task.spec.kind,
            mode="generate" if task.generative(chat[task.name]) else "loglikelihood",
            metric=primary,
            score=metrics[primary].mean,
            stderr=metrics[primary].stderr,
            ci95=bootstrap_ci([s.scores[primary] for s in rows], seed),
            n=len(rows),
            metrics=metrics,
            chat=chat[task.name],
            data_sha256=task.data_sha256,
            prompt_sha256=task.prompt_sha256,
            fewshot_ids=[s.id for s in task.shots],
            samples_file=f"{run_id}/samples/{task.name}.jsonl",
            item_scores=[s.scores[primary] for s in rows],
            chance=sum(1 / len(s.choices) if s.choices else 0.0 for s in rows) / max(len(rows), 1),
        )
    categories: dict[str, CategoryScore] = {}
    for name, ts in scores.items():
        categories.setdefault(ts.category, CategoryScore(score=0.0, tasks=[])).tasks.append(name)
    for cat in categories.values():
        cat.score = sum(scores[t].score for t in cat.tasks) / len(cat.tasks)
    return scores, categories


# ---- 5. provenance -----------------------------------------------------------------------


def _git(*args: str) -> str | None:
    root = Path(jpeval.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _hardware() -> dict[str, Any]:
    hw: dict[str, Any] = {"machine": platform.machine(), "cpu_count": os.cpu_count()}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        hw["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return hw


def _libraries() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_state() -> tuple[str | None, bool | None]:
    """The checkout's commit and whether it has changes (None, None outside a git checkout)."""
    commit = _git("rev-parse", "HEAD")
    return commit, None if commit is None else bool(_git("status", "--porcelain"))


def provenance(
    cfg: RunConfig,
    limit: int | None,
    started: str,
    timings: dict[str, float],
    git: tuple[str | None, bool | None],
) -> Provenance:
    """Where a result came from: code version (``git``, read when the run started), command,
    machine, libraries, settings, timings."""
    return Provenance(
        jpeval_version=jpeval.__version__,
        git_commit=git[0],
        git_dirty=git[1],
        command=list(sys.argv),
        python=platform.python_version(),
        platform=platform.platform(),
        hardware=_hardware(),
        libraries=_libraries(),
        normalizer_version=NORMALIZER_VERSION,
        seed=cfg.seed,
        limit=limit,
        batch_size=cfg.batch_size,
        started_at=started,
        finished_at=utc_now(),
        timings={k: round(v, 3) for k, v in timings.items()},
    )


# ---- the whole run -----------------------------------------------------------------------


def with_model_args(spec: ModelSpec, args: Mapping[str, Any]) -> ModelSpec:
    """The model entry with ``--model-args`` applied: ``dtype`` sets the entry's dtype, the rest
    go to its backend options."""
    if not args:
        return spec
    options = {k: v for k, v in args.items() if k != "dtype"}
    data = spec.model_dump() | {"options": {**spec.options, **options}}
    if "dtype" in args:
        data["dtype"] = args["dtype"]
    try:
        return ModelSpec.model_validate(data)
    except pydantic.ValidationError as e:
        raise JpevalError(
            f"--model-args: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}"
        ) from None


def _cache(cfg: RunConfig, name: str, backend: Backend) -> RequestCache | None:
    """The request cache of one model in the results folder, keyed by the backend fingerprint."""
    if not cfg.use_cache:
        return None
    key = hashlib.sha256(json.dumps(backend.fingerprint(), sort_keys=True).encode()).hexdigest()
    return RequestCache(cfg.output / ".cache" / f"{name}.sqlite", key)


def run_judge(
    cfg: RunConfig, tasks: Sequence[Task], plan: Plan, samples: dict[str, list[Sample]]
) -> JudgeInfo:
    """Score the samples of tasks with a judge rubric by the judge model (``cfg.judge``)."""
    spec = resolve_model(cfg.judge or "")
    backend = make_backend(spec, cfg)
    cache = _cache(cfg, f"judge-{spec.name}", backend)
    items = {(e.task.name, e.item.id): e.item for e in plan.entries}
    try:
        return judge_samples(tasks, items, samples, spec, backend, cache, execute)
    finally:
        if cache:
            cache.close()
        if hasattr(backend, "close"):
            backend.close()


def make_backend(spec: ModelSpec, cfg: RunConfig) -> Backend:
    opts = BackendOptions(
        batch_size=cfg.batch_size, seed=cfg.seed, device=cfg.device, model_path=model_path(spec)
    )
    return BACKENDS.get(spec.backend)(spec, opts)


def run(
    cfg: RunConfig, backend: Backend | None = None
) -> tuple[Path, RunResult, dict[str, list[Sample]]]:
    """Evaluate one model on the chosen tasks and write the results; return the results path."""
    started, t0, git = utc_now(), time.perf_counter(), git_state()
    timings: dict[str, float] = {}
    spec = with_model_args(resolve_model(cfg.model), cfg.model_args)
    patterns, limit = list(cfg.tasks), cfg.limit
    if not patterns:
        suite = load_suite(cfg.suite or "quick")
        patterns, limit = suite.tasks, cfg.limit or suite.limit
    tasks = select_tasks(patterns, cfg.include)
    timings["load_tasks"] = time.perf_counter() - t0

    t = time.perf_counter()
    own = backend is None
    backend = backend or make_backend(spec, cfg)
    timings["load_model"] = time.perf_counter() - t
    try:
        return _evaluate(cfg, spec, tasks, limit, backend, (started, t0, git), timings)
    finally:
        if own and hasattr(backend, "close"):
            backend.close()


def _evaluate(
    cfg: RunConfig,
    spec: ModelSpec,
    tasks: list[Task],
    limit: int | None,
    backend: Backend,
    start: tuple[str, float, tuple[str | None, bool | None]],
    timings: dict[str, float],
) -> tuple[Path, RunResult, dict[str, list[Sample]]]:
    started, t0, git = start
    chat = {task.name: use_chat(task, backend) for task in tasks}
    plan = plan_requests(tasks, chat, limit)

    t = time.perf_counter()
    fingerprint = backend.fingerprint()
    cache = _cache(cfg, spec.name, backend)
    try:
        outputs, n_cached = execute(backend, plan.unique, cache)
    finally:
        if cache:
            cache.close()
    timings["requests"] = time.perf_counter() - t

    t = time.perf_counter()
    run_id = new_run_id()
    samples = score(plan, outputs)
    judge = None
    if cfg.judge and any(task.spec.judge for task in tasks):
        judge = run_judge(cfg, tasks, plan, samples)
    task_scores, categories = summarise(tasks, samples, chat, cfg.seed, run_id)
    timings["scoring"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    result = RunResult(
        run_id=run_id,
        model=ModelInfo(
            name=spec.name,
            display_name=spec.label,
            backend=spec.backend,
            model=spec.model,
            origin=spec.origin,
            fingerprint=fingerprint,
        ),
        tasks=task_scores,
        categories=categories,
        requests=Requests(
            total=plan.total,
            unique=len(plan.unique),
            cached=n_cached,
            computed=len(plan.unique) - n_cached,
            usage=getattr(backend, "usage", None),
        ),
        provenance=provenance(cfg, limit, started, timings, git),
        judge=judge,
    )
    path = write_run(cfg.output / spec.name, result, samples)
    return path, result, samples
