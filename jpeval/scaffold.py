"""``jpeval new-task``: a working skeleton that ``jpeval validate`` accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jpeval.errors import JpevalError
from jpeval.paths import tasks_dir
from jpeval.spec import TASK_NAME

_YAML = """\
name: {name}
category: {category}
version: 1                 # bump whenever items or the prompt change
description: 新しいタスクの説明を書いてください
data: test.jsonl
kind: multiple_choice      # or: generate (then drop `choices` and give a reference `answer`)
prompt: |-
  質問：{{{{ question }}}}
  答え：
choices: choices
answer: answer
fewshot: {{n: 1, from: dev.jsonl, seed: 1234}}
metrics: [accuracy, accuracy_norm]
chat: auto
"""

_TEST = [
    {
        "id": "t-001",
        "question": "日本の首都はどこですか。",
        "choices": ["東京", "大阪", "京都"],
        "answer": 0,
        "rationale": "日本の首都は東京である。",
    },
    {
        "id": "t-002",
        "question": "一年で最も昼が短い日は何と呼ばれますか。",
        "choices": ["夏至", "冬至", "春分"],
        "answer": 1,
        "rationale": "北半球では冬至の日に昼の長さが最も短くなる。",
    },
]
_DEV = [
    {
        "id": "d-001",
        "question": "富士山がある都道府県の一つはどこですか。",
        "choices": ["長野県", "新潟県", "静岡県"],
        "answer": 2,
        "rationale": "富士山は静岡県と山梨県にまたがる。",
    },
]


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def new_task(name: str, parent: Path | None = None) -> Path:
    if not re.match(TASK_NAME, name):
        raise JpevalError(f"task name {name!r} must be dotted lower-case, like keigo.my_task")
    category, _, rest = name.partition(".")
    folder = (parent if parent is not None else tasks_dir() / category) / rest.replace(".", "_")
    if folder.exists():
        raise JpevalError(f"{folder} already exists")
    folder.mkdir(parents=True)
    (folder / "task.yaml").write_text(_YAML.format(name=name, category=category), encoding="utf-8")
    (folder / "test.jsonl").write_text(_jsonl(_TEST), encoding="utf-8")
    (folder / "dev.jsonl").write_text(_jsonl(_DEV), encoding="utf-8")
    return folder
