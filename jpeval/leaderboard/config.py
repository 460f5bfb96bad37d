"""The leaderboard's own configuration (configs/leaderboard.yaml) and published scores
(configs/reported/*.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticError

from jpeval.errors import Problem, ValidationError
from jpeval.spec import load_spec, pydantic_problems, read_yaml


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Spec):
    weight: float = Field(default=1.0, gt=0)
    tasks: list[str] = Field(min_length=1, description="task names or globs")


class LeaderboardConfig(_Spec):
    title: str = "jpeval leaderboard"
    seed: int = 1234
    bootstrap: int = Field(default=1000, ge=100, le=100_000)
    normalise: Literal["none", "chance"] = "none"
    categories: dict[str, Category]
    overall: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _overall_known(self) -> LeaderboardConfig:
        unknown = [c for c in self.overall if c not in self.categories]
        if unknown:
            raise ValueError(f"overall lists unknown categories: {', '.join(unknown)}")
        return self


class Reported(_Spec):
    """A published score, shown beside measured ones and never ranked with them."""

    model: str
    task: str
    metric: str
    value: float
    shots: int | None = None
    source: str
    date: str | None = None


def load_config(path: Path) -> LeaderboardConfig:
    return load_spec(path, LeaderboardConfig)


def load_reported(folder: Path) -> list[Reported]:
    rows: list[Reported] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        data, _ = read_yaml(path)
        try:
            rows += TypeAdapter(list[Reported]).validate_python(data or [])
        except PydanticError as e:
            problems += pydantic_problems(e, str(path), {})
    if problems:
        raise ValidationError(problems)
    return rows
