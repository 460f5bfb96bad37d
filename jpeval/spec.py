"""Typed specs read from YAML: tasks, models and suites.

YAML is read with ``safe_load`` only; validation errors name the file, the line of
the offending key and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticError

from jpeval.errors import Problem, ValidationError

TASK_NAME = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FewShot(_Spec):
    """Few-shot: ``n`` items drawn once with ``seed`` from the file (or hf split) ``from``."""

    n: int = Field(ge=0, le=64)
    from_: str = Field(alias="from", min_length=1)
    seed: int = 1234


class Generation(_Spec):
    max_tokens: int = Field(default=64, ge=1, le=32768)
    stop: list[str] = Field(default_factory=lambda: ["\n"])

    @field_validator("stop")
    @classmethod
    def _no_empty_stop(cls, v: list[str]) -> list[str]:
        if any(s == "" for s in v):
            raise ValueError("stop sequences must be non-empty strings")
        return v


class HFFields(_Spec):
    """How a dataset row becomes an item: which columns hold the id, the options, the answer."""

    id: str | None = Field(default=None, description="id column; None: <split>-<row number>")
    choices: list[str] | None = Field(
        default=None, min_length=2, description="option columns, in order"
    )
    answer: str = Field(description="column with the gold index, label or reference text")
    answer_labels: list[str] | None = Field(
        default=None,
        description="the answer column holds one of these labels (e.g. A-D), not an index",
    )


class HFSource(_Spec):
    """Items from the Hugging Face ``datasets`` library instead of a local JSONL file.

    ``JPEVAL_HF_MIRROR=DIR`` loads ``DIR/<path>`` instead of the hub when that folder exists.
    """

    path: str = Field(min_length=1, description="dataset id on the hub, or a local folder")
    name: str | None = None
    split: str = Field(min_length=1)
    revision: str | None = None
    data_files: str | list[str] | None = None
    column_names: list[str] | None = Field(
        default=None,
        description="CSV files without a header: read data_files of the repository with the csv "
        "builder, naming the columns",
    )
    fields: HFFields

    @model_validator(mode="after")
    def _csv_needs_files(self) -> HFSource:
        if self.column_names is not None and not isinstance(self.data_files, str):
            raise ValueError("column_names needs data_files: the one CSV file to read")
        return self


class JudgeSpec(_Spec):
    """An LLM-as-judge rubric, used when a run names a judge model (``--judge``)."""

    rubric: str = Field(
        min_length=1,
        description="Jinja template (Japanese) over the item's fields, `answer` (the model's "
        "output) and `references`; it asks for a score written as 「評価：N」",
    )
    scale: tuple[int, int] = Field(default=(1, 5), description="lowest and highest score")
    max_tokens: int = Field(default=256, ge=1)

    @model_validator(mode="after")
    def _check_scale(self) -> JudgeSpec:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(
                f"scale {list(self.scale)}: the lowest score must be below the highest"
            )
        return self


Kind = Literal["multiple_choice", "generate"]
DEFAULT_METRICS: dict[str, list[str]] = {
    "multiple_choice": ["accuracy", "accuracy_norm"],
    "generate": ["exact_match", "char_f1"],
}


class TaskSpec(_Spec):
    """A task folder's ``task.yaml``."""

    name: str = Field(pattern=TASK_NAME, description="dotted: category.task")
    category: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=0)
    description: str = ""
    data: str | None = Field(default=None, min_length=1, description="JSONL file of test items")
    hf: HFSource | None = Field(default=None, description="or: items from a datasets split")
    kind: Kind
    prompt: str = Field(min_length=1, description="Jinja template over an item's fields")
    choices: str | None = Field(default=None, description="item field holding the options")
    mode: Literal["auto", "loglikelihood", "generate"] = Field(
        default="auto",
        description="multiple choice: score options by log-likelihood, or let the model generate "
        "its answer; auto generates when the chat template is applied",
    )
    answer_format: Literal["label", "text"] = Field(
        default="label",
        description="generated multiple-choice answers: the option's label (A-D) or its text",
    )
    choice_prompt: str | None = Field(
        default=None,
        description="template for generated multiple-choice answers; sees the item's fields, "
        "`options` (the lettered list) and `labels`",
    )
    answer: str = "answer"
    fewshot: FewShot | None = None
    fewshot_delimiter: str = "\n\n"
    target_delimiter: str = ""
    metrics: list[str] = Field(default_factory=list)
    generation: Generation = Field(default_factory=Generation)
    chat: Literal["auto", "always", "never"] = "auto"
    judge: JudgeSpec | None = Field(default=None, description="generate tasks: an LLM-judge rubric")
    artifact_group: str | None = Field(
        default=None,
        description="multiple choice: the item field naming what an item tests (its rule), when "
        "the options carry the skill itself; `jpeval validate --artifacts` then cross-validates "
        "the options-only baseline by this field, so a rule learnt from other items of the same "
        "rule does not count as a shortcut",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> TaskSpec:
        if self.kind == "multiple_choice" and not self.choices:
            raise ValueError(
                "multiple_choice tasks need 'choices' (the item field with the options)"
            )
        if self.kind == "generate" and (self.choices or self.choice_prompt or self.mode != "auto"):
            raise ValueError(
                "'choices', 'mode' and 'choice_prompt' are only for multiple_choice tasks"
            )
        if self.judge is not None and self.kind != "generate":
            raise ValueError("'judge' is for generate tasks")
        if self.artifact_group is not None and self.kind != "multiple_choice":
            raise ValueError("'artifact_group' is for multiple_choice tasks")
        if (self.data is None) == (self.hf is None):
            raise ValueError(
                "give exactly one of 'data' (a JSONL file) and 'hf' (a datasets split)"
            )
        if self.hf is not None and self.kind == "multiple_choice" and not self.hf.fields.choices:
            raise ValueError("hf.fields.choices must list the option columns")
        if not self.name.startswith(self.category + "."):
            raise ValueError(f"name {self.name!r} must start with its category {self.category!r}.")
        return self

    @property
    def metric_names(self) -> list[str]:
        return self.metrics or DEFAULT_METRICS[self.kind]


class ModelSpec(_Spec):
    """A model entry in ``configs/models/*.yaml`` (or one built from ``hf:...``)."""

    name: str = Field(pattern=MODEL_NAME)
    display_name: str = ""
    backend: str = "hf"
    model: str = Field(min_length=1, description="hub id, local path or API model name")
    revision: str | None = None
    prepare: str | None = Field(default=None, description="preparer that builds a local copy")
    origin: Literal["domestic", "global", "unknown"] = "unknown"
    developer: str = ""
    params_b: float | None = Field(default=None, gt=0, description="parameters, in billions")
    license: str = ""
    instruct: bool | None = None
    release_date: str | None = Field(default=None, description="YYYY-MM or YYYY-MM-DD")
    checked: bool = Field(
        default=True, description="false: the id, licence or date was not checked against the hub"
    )
    api_key_env: str | None = Field(
        default=None, description="openai backend: the environment variable holding the API key"
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.display_name or self.name


class SuiteSpec(_Spec):
    """A named list of tasks (``configs/suites/*.yaml``); entries may be glob patterns."""

    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    description: str = ""
    tasks: list[str] = Field(min_length=1)
    limit: int | None = Field(default=None, ge=1)


S = TypeVar("S", bound=BaseModel)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


def read_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """Parse a YAML file safely; return the data and the line of each top-level key."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError([Problem(str(path), "file not found")]) from None
    except UnicodeDecodeError as e:
        raise ValidationError([Problem(str(path), f"not UTF-8 text ({e.reason})")]) from None
    try:
        loader = _LOADER(text)  # parsed once: the nodes give each key's line
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(e, "problem", None) or str(e)
        raise ValidationError([Problem(str(path), f"invalid YAML: {reason}", line)]) from None
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
    return data, lines


def pydantic_problems(err: PydanticError, file: str, lines: dict[str, int]) -> list[Problem]:
    """Turn pydantic's errors into problems that name the field and its line."""
    out = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        field = ".".join(loc) or None
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif "input" in e and e["type"] not in ("model_type",):
            msg = f"{msg} (got {e['input']!r:.80})"
        out.append(Problem(file, msg, lines.get(loc[0]) if loc else None, field))
    return out


def load_spec(path: Path, cls: type[S]) -> S:
    """Read ``path`` as YAML and validate it as ``cls``; raise one error listing every problem."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ValidationError([Problem(str(path), "expected a mapping of fields at the top level")])
    try:
        return cls.model_validate(data)
    except PydanticError as e:
        raise ValidationError(pydantic_problems(e, str(path), lines)) from None
