"""Items from the Hugging Face ``datasets`` library (public sets such as JCommonsenseQA).

Rows are mapped to items by the task's ``hf.fields``. Set ``JPEVAL_HF_MIRROR=DIR`` to
load ``DIR/<dataset id>`` (a folder laid out like the hub repository) instead of
downloading, e.g. on machines without internet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jpeval.errors import Problem
from jpeval.spec import HFSource


def source_label(src: HFSource, split: str) -> str:
    name = f"/{src.name}" if src.name else ""
    return f"hf:{src.path}{name}[{split}]"


def _resolve(src: HFSource) -> tuple[str, str | None]:
    mirror = os.environ.get("JPEVAL_HF_MIRROR")
    if mirror and (Path(mirror) / src.path).is_dir():
        return str(Path(mirror) / src.path), None
    return src.path, src.revision


def load_rows(src: HFSource, split: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Every row of one split as (row number from 1, dict), or the problem that stopped it."""
    label = source_label(src, split)
    try:
        import datasets
    except ImportError:
        return [], [Problem(label, "the datasets library is missing: pip install 'jpeval[hf]'")]
    path, revision = _resolve(src)
    kwargs: dict[str, Any] = {"split": split}
    if src.column_names is not None:  # a headerless CSV file inside the repository
        local = Path(path).is_dir()
        at = "" if local or revision is None else f"@{revision}"
        base = path if local else f"hf://datasets/{path}{at}"
        args: tuple[Any, ...] = ("csv",)
        kwargs |= {"data_files": f"{base}/{src.data_files}", "column_names": src.column_names}
    else:
        args = (path, src.name)
        kwargs |= {"revision": revision, "data_files": src.data_files}
    try:
        ds = datasets.load_dataset(*args, **kwargs)
    except Exception as e:  # datasets raises many kinds: report, do not crash the listing
        return [], [Problem(label, f"cannot load: {type(e).__name__}: {e}".splitlines()[0][:300])]
    return [(i, dict(row)) for i, row in enumerate(ds, start=1)], []


def to_item(
    row: dict[str, Any], number: int, src: HFSource, split: str, choices: str | None, answer: str
) -> dict[str, Any]:
    """Map a dataset row onto the item fields the task's templates and checks expect."""
    f = src.fields
    item = dict(row)
    item["id"] = str(row[f.id]) if f.id else f"{split}-{number}"
    if f.choices and choices:
        item[choices] = [None if row.get(c) is None else str(row[c]) for c in f.choices]
    gold = row.get(f.answer)
    if f.answer_labels is not None:
        gold = (
            f.answer_labels.index(str(gold).strip())
            if str(gold).strip() in f.answer_labels
            else gold
        )
    item[answer] = gold
    return item
