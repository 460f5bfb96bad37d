"""A task: a folder with ``task.yaml`` and JSONL items, turned into requests and scores.

Loading checks everything at once and raises one ``ValidationError`` listing every
problem with its file, line and field. Prompts are Jinja templates rendered in a
sandbox: templates cannot reach Python internals, and the item's ``rationale`` is
never visible to them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from jpeval.errors import Problem, ValidationError
from jpeval.hfdata import load_rows, source_label, to_item
from jpeval.metrics import (
    LABELS,
    METRICS,
    ChoiceOutcome,
    Metric,
    TextOutcome,
    argmax,
    extract_choice,
)
from jpeval.requests import (
    Generate,
    Loglikelihood,
    LoglikelihoodResult,
    Message,
    Prompt,
    Request,
    prompt_to_json,
)
from jpeval.results import Sample
from jpeval.spec import TaskSpec, load_spec, read_yaml
from jpeval.text.normalize import normalize

HIDDEN_FIELDS = frozenset({"rationale"})

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)


@dataclass(frozen=True)
class Item:
    id: str
    line: int
    fields: dict[str, Any]


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Every non-blank line of a JSONL file with its line number, plus the problems found."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [Problem(str(path), "data file not found")]
    rows: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    for lineno, line_bytes in enumerate(raw.split(b"\n"), start=1):
        if lineno == 1:
            line_bytes = line_bytes.removeprefix(b"\xef\xbb\xbf")
        try:
            line = line_bytes.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as e:
            problems.append(Problem(str(path), f"not UTF-8 (byte {e.start + 1})", lineno))
            continue
        if not line.strip():
            continue
        try:
            rows.append((lineno, json.loads(line)))
        except json.JSONDecodeError as e:
            problems.append(
                Problem(str(path), f"not valid JSON: {e.msg} (column {e.colno})", lineno)
            )
    if not rows and not problems:
        problems.append(Problem(str(path), "no items: the file is empty"))
    return rows, problems


def _is_str_list(v: Any, min_len: int) -> bool:
    return isinstance(v, list) and len(v) >= min_len and all(isinstance(s, str) and s for s in v)


class Task:
    """A loaded, validated task. Build with ``Task.load(folder)``."""

    def __init__(
        self,
        spec: TaskSpec,
        folder: Path,
        items: list[Item],
        shots: list[Item],
        data_sha256: str,
    ) -> None:
        self.spec = spec
        self.folder = folder
        self.items = items
        self.shots = shots
        self.data_sha256 = data_sha256
        self.template = _ENV.from_string(spec.prompt)
        self.choice_template = _ENV.from_string(spec.choice_prompt) if spec.choice_prompt else None
        self.rubric = _ENV.from_string(spec.judge.rubric) if spec.judge else None
        self.metrics: list[Metric] = [METRICS.get(m) for m in spec.metric_names]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def prompt_sha256(self) -> str:
        """Hash of everything that shapes the prompt text (template, few-shot, delimiters)."""
        s = self.spec
        shape = [
            s.prompt,
            s.choice_prompt,
            s.mode,
            s.answer_format,
            s.fewshot_delimiter,
            s.target_delimiter,
            [i.id for i in self.shots],
            s.chat,
        ]
        return hashlib.sha256(json.dumps(shape, ensure_ascii=False).encode()).hexdigest()

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: Path) -> Task:
        """Load and check a task folder; raise one ValidationError listing every problem."""
        folder = Path(folder)
        spec_path = folder / "task.yaml"
        spec = load_spec(spec_path, TaskSpec)
        _, key_lines = read_yaml(spec_path)
        templates, problems = _check_spec(spec, folder, key_lines)
        if problems:
            raise ValidationError(problems)
        digest = hashlib.sha256()
        source = spec.hf.split if spec.hf else str(spec.data)
        items = _load_items(folder, source, spec, templates, problems, digest)
        shots = _load_shots(folder, spec, templates, items, problems, digest, key_lines)
        if problems:
            raise ValidationError(problems)
        return cls(spec, folder, items, shots, digest.hexdigest())

    # ---- prompts and requests ------------------------------------------------------------

    def generative(self, chat: bool) -> bool:
        """Whether the model generates its answer (always for generate tasks)."""
        s = self.spec
        return s.kind == "generate" or s.mode == "generate" or (s.mode == "auto" and chat)

    def render(self, item: Item) -> str:
        return self.template.render(**_visible(item.fields))

    def question(self, item: Item, generative: bool) -> str:
        """The item as the model sees it (with lettered options when the answer is generated)."""
        if self.spec.kind != "multiple_choice" or not generative:
            return self.render(item)
        return _choice_question(self.spec, self.template, self.choice_template, item.fields)

    def target(self, item: Item, generative: bool) -> str:
        """The gold answer as written after a few-shot example."""
        if self.spec.kind == "multiple_choice":
            gold = item.fields[self.spec.answer]
            if generative and self.spec.answer_format == "label":
                return LABELS[gold]
            return str(self._choices(item)[gold])
        return self._references(item)[0]

    def prompt(self, item: Item, chat: bool) -> Prompt:
        """The full prompt for ``item``: few-shot examples, then the item itself."""
        s, gen = self.spec, self.generative(chat)
        if chat:
            msgs: list[Message] = []
            for shot in self.shots:
                msgs += [
                    Message("user", self.question(shot, gen)),
                    Message("assistant", self.target(shot, gen)),
                ]
            return (*msgs, Message("user", self.question(item, gen)))
        shots = "".join(
            self.question(x, gen) + s.target_delimiter + self.target(x, gen) + s.fewshot_delimiter
            for x in self.shots
        )
        return shots + self.question(item, gen)

    def requests(self, item: Item, chat: bool) -> list[Request]:
        prompt = self.prompt(item, chat)
        if not self.generative(chat):
            delim = "" if chat else self.spec.target_delimiter
            return [Loglikelihood(prompt, delim + c) for c in self._choices(item)]
        g = self.spec.generation
        return [Generate(prompt, g.max_tokens, tuple(g.stop))]

    # ---- scoring -------------------------------------------------------------------------

    def score(self, item: Item, outputs: Sequence[LoglikelihoodResult | str], chat: bool) -> Sample:
        """Score one item from its backend outputs (one per request, in order)."""
        prompt = prompt_to_json(self.prompt(item, chat))
        if self.spec.kind == "generate":
            generation = str(outputs[0])
            refs = self._references(item)
            text = TextOutcome(generation, refs, _visible(item.fields))
            return Sample(
                task=self.name,
                id=item.id,
                prompt=prompt,
                generation=generation,
                prediction=normalize(generation),
                gold=refs[0],
                references=refs,
                scores={m.name: m.score(text) for m in self.metrics},  # type: ignore[arg-type]
            )
        choices = [str(c) for c in self._choices(item)]
        gold = int(item.fields[self.spec.answer])
        results = [o for o in outputs if isinstance(o, LoglikelihoodResult)]
        answer: str | None = None if results else str(outputs[0])
        logprobs: list[float] | None
        pred: int | None
        if answer is None:
            logprobs = [r.logprob for r in results]
            pred = argmax(logprobs)
        else:
            logprobs, pred = None, extract_choice(answer, choices, self.spec.answer_format)
        mc = ChoiceOutcome(logprobs, choices, gold, pred)
        return Sample(
            task=self.name,
            id=item.id,
            prompt=prompt,
            choices=choices,
            loglikelihoods=logprobs,
            is_greedy=[r.is_greedy for r in results] if results else None,
            generation=answer,
            pred_index=pred,
            gold_index=gold,
            prediction=choices[pred] if pred is not None else normalize(answer or ""),
            gold=choices[gold],
            scores={m.name: m.score(mc) for m in self.metrics},  # type: ignore[arg-type]
        )

    def judge_prompt(self, item: Item, answer: str) -> str:
        """The judge rubric filled in for one item and the model's answer."""
        assert self.rubric is not None
        refs = self._references(item)
        return self.rubric.render({**_visible(item.fields), "answer": answer, "references": refs})

    def _choices(self, item: Item) -> list[str]:
        assert self.spec.choices is not None
        return list(item.fields[self.spec.choices])

    def _references(self, item: Item) -> list[str]:
        ans = item.fields[self.spec.answer]
        return [ans] if isinstance(ans, str) else list(ans)


def _visible(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in HIDDEN_FIELDS}


def _check_spec(
    spec: TaskSpec, folder: Path, key_lines: dict[str, int]
) -> tuple[dict[str, jinja2.Template], list[Problem]]:
    """Compile the templates and check metric names and data paths against the spec."""
    spec_path = str(folder / "task.yaml")
    problems: list[Problem] = []
    templates: dict[str, jinja2.Template] = {}
    for fld in ("prompt", "choice_prompt", "judge"):
        text = spec.judge.rubric if fld == "judge" and spec.judge else getattr(spec, fld)
        text = text if isinstance(text, str) else None
        try:
            if text is not None:
                templates[fld] = _ENV.from_string(text)
        except jinja2.TemplateSyntaxError as e:
            msg = f"template syntax error: {e.message}"
            problems.append(Problem(spec_path, msg, key_lines.get(fld), fld))
    line = key_lines.get("metrics")
    for m in spec.metric_names:
        if m not in METRICS:
            problems.append(Problem(spec_path, f"unknown metric {m!r}", line, "metrics"))
        elif (kind := METRICS.get(m).kind) != spec.kind:
            problems.append(
                Problem(spec_path, f"metric {m!r} is for {kind} tasks", line, "metrics")
            )
    local_shots = spec.fewshot.from_ if spec.fewshot and spec.hf is None else None
    for fld, rel in (("data", spec.data), ("fewshot.from", local_shots)):
        if rel is not None and not (folder / rel).resolve().is_relative_to(folder.resolve()):
            msg = f"{rel!r} must be a file inside the task folder"
            problems.append(Problem(spec_path, msg, key_lines.get(fld.split(".")[0]), fld))
    return templates, problems


def _load_shots(
    folder: Path,
    spec: TaskSpec,
    templates: dict[str, jinja2.Template],
    items: list[Item],
    problems: list[Problem],
    digest: Any,
    key_lines: dict[str, int],
) -> list[Item]:
    """The few-shot examples: ``n`` drawn once with the spec's seed, none also a test item."""
    if spec.fewshot is None:
        return []
    pool = _load_items(folder, spec.fewshot.from_, spec, templates, problems, digest)
    test_ids = {i.id for i in items}
    where = _source_name(folder, spec, spec.fewshot.from_)
    problems += [
        Problem(where, f"id {it.id!r} is also a test item", it.line, "id")
        for it in pool
        if it.id in test_ids
    ]
    if spec.fewshot.n > len(pool):
        msg = f"asks for {spec.fewshot.n} examples but {spec.fewshot.from_} has {len(pool)}"
        problems.append(
            Problem(str(folder / "task.yaml"), msg, key_lines.get("fewshot"), "fewshot.n")
        )
        return []
    return random.Random(spec.fewshot.seed).sample(pool, spec.fewshot.n)


def _choice_question(
    spec: TaskSpec,
    prompt: jinja2.Template,
    choice_prompt: jinja2.Template | None,
    fields: dict[str, Any],
) -> str:
    """A multiple-choice item written out with lettered options, for a generated answer."""
    assert spec.choices is not None
    choices = [str(c) for c in fields[spec.choices]]
    labels = LABELS[: len(choices)]
    options = "\n".join(f"{label}. {c}" for label, c in zip(labels, choices, strict=False))
    listed = "、".join(labels)
    if choice_prompt is not None:
        return choice_prompt.render(**_visible(fields), options=options, labels=listed)
    if spec.answer_format == "label":
        ask = f"{listed}のうち正しいものを一つ選び、記号だけで答えてください。"
    else:
        ask = "選択肢の中から正しいものを一つ選び、その文字列をそのまま答えてください。"
    return f"{prompt.render(**_visible(fields))}\n{options}\n{ask}"


def _source_name(folder: Path, spec: TaskSpec, source: str) -> str:
    """How problems name where an item came from: a file path, or hf:<dataset>[split]."""
    return source_label(spec.hf, source) if spec.hf else str(folder / source)


def _source_rows(
    folder: Path, spec: TaskSpec, source: str, digest: Any
) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Rows of a local JSONL file or of a datasets split, hashed into ``digest``."""
    if spec.hf is None:
        path = folder / source
        if path.is_file():
            digest.update(path.read_bytes())
        return read_jsonl(path)
    rows, problems = load_rows(spec.hf, source)
    items = [(n, to_item(r, n, spec.hf, source, spec.choices, spec.answer)) for n, r in rows]
    for _, item in items:
        digest.update(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str).encode())
    return items, problems


def _load_items(
    folder: Path,
    source: str,
    spec: TaskSpec,
    templates: dict[str, jinja2.Template],
    problems: list[Problem],
    digest: Any,
) -> list[Item]:
    """Read and check the items of one source; append every problem found to ``problems``."""
    rows, found = _source_rows(folder, spec, source, digest)
    problems += found
    where = _source_name(folder, spec, source)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for line, obj in rows:
        errs = list(_check_item(obj, spec, templates))
        problems += [Problem(where, msg, line, field) for field, msg in errs]
        if errs:
            continue
        item_id = obj["id"]
        if item_id in seen:
            problems.append(
                Problem(
                    where, f"duplicate id {item_id!r} (first on line {seen[item_id]})", line, "id"
                )
            )
            continue
        seen[item_id] = line
        items.append(Item(item_id, line, obj))
    return items


def _check_item(
    obj: Any, spec: TaskSpec, templates: dict[str, jinja2.Template]
) -> Iterator[tuple[str | None, str]]:
    """Yield (field, message) for every problem of one item."""
    if not isinstance(obj, dict):
        yield None, f"expected a JSON object, got {type(obj).__name__}"
        return
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        yield "id", "expected a non-empty string"
    own_items = spec.hf is None  # public sets carry no rationale; our own items must
    if own_items and (not isinstance(obj.get("rationale"), str) or not obj["rationale"].strip()):
        yield "rationale", "expected a non-empty string saying why the answer is right"
    ans_field = spec.answer
    ans = obj.get(ans_field)
    if spec.kind == "multiple_choice":
        assert spec.choices is not None
        choices: Any = obj.get(spec.choices)
        if not _is_str_list(choices, 2):
            yield spec.choices, "expected a list of at least 2 non-empty strings"
            return
        if len(set(choices)) != len(choices):
            yield spec.choices, "options must be distinct"
        if not isinstance(ans, int) or isinstance(ans, bool):
            yield (
                ans_field,
                f"expected the index of the correct option (an integer), got {ans!r:.40}",
            )
        elif not 0 <= ans < len(choices):
            n = len(choices)
            yield ans_field, f"index {ans} is out of range for {n} options (0..{n - 1})"
        group = spec.artifact_group
        if group and not (isinstance(obj.get(group), str) and obj[group].strip()):
            yield group, "expected a non-empty string naming what the item tests (artifact_group)"
    elif not (isinstance(ans, str) and ans) and not _is_str_list(ans, 1):
        yield ans_field, "expected a reference answer (a non-empty string or a list of them)"
    for name in templates:
        try:
            if name == "prompt":
                templates[name].render(**_visible(obj))
            elif name == "judge":
                templates[name].render({**_visible(obj), "answer": "", "references": [""]})
            elif spec.choices and _is_str_list(obj.get(spec.choices), 2):
                _choice_question(spec, templates["prompt"], templates[name], obj)
        except jinja2.UndefinedError as e:
            yield name, f"template uses a field this item lacks: {e.message}"
        except SecurityError as e:
            yield name, f"template refused by the sandbox: {e}"
        except Exception as e:  # any other render failure is a problem in the template or item
            yield name, f"template failed to render: {type(e).__name__}: {e}"
