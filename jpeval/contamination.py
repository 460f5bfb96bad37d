"""Contamination check: which task items appear in a text corpus (a model's training data).

An item's text is its rendered prompt (no few-shot examples) and its gold answer. Texts are
normalised (NFKC, ``jpeval.text.normalize``) and compared without whitespace as character
13-grams (Japanese has no spaces to count words by). An item is reported when any of its
13-grams occurs in the corpus, with the share of its 13-grams found. The corpus is streamed
line by line (13-grams may span line breaks), so it may be far larger than memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jpeval.errors import JpevalError
from jpeval.task import Item, Task
from jpeval.text.normalize import normalize

N = 13
_SPACE = re.compile(r"\s+")


def _compact(text: str) -> str:
    return _SPACE.sub("", normalize(text))


def item_text(task: Task, item: Item) -> str:
    """What a model could have memorised of an item: its prompt and its gold answer."""
    ans = item.fields.get(task.spec.answer)
    if task.spec.choices:
        gold = str(list(item.fields[task.spec.choices])[int(ans)]) if isinstance(ans, int) else ""
    else:
        gold = ans if isinstance(ans, str) else str(ans[0]) if ans else ""
    return task.render(item) + "\n" + gold


@dataclass
class Hit:
    task: str
    id: str
    ngrams: int  # the item's distinct n-grams
    found: set[str] = field(default_factory=set)

    @property
    def ratio(self) -> float:
        return len(self.found) / self.ngrams if self.ngrams else 0.0


def scan(tasks: Sequence[Task], corpus: Iterable[Path], n: int = N) -> list[Hit]:
    """Items with at least one n-gram in the corpus, most contaminated first."""
    index: dict[str, list[Hit]] = {}
    for task in tasks:
        for item in task.items:
            text = _compact(item_text(task, item))
            grams = {text[i : i + n] for i in range(len(text) - n + 1)}
            hit = Hit(task.name, item.id, len(grams))
            for g in grams:
                index.setdefault(g, []).append(hit)
    for path in corpus:
        if not path.is_file():
            raise JpevalError(f"--corpus {path}: no such file")
        carry = ""
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                text = carry + _compact(line)
                for i in range(len(text) - n + 1):
                    hits = index.get(text[i : i + n])
                    if hits:
                        for h in hits:
                            h.found.add(text[i : i + n])
                carry = text[-(n - 1) :] if n > 1 else ""
    found = {id(h): h for hits in index.values() for h in hits if h.found}
    return sorted(found.values(), key=lambda h: (-h.ratio, h.task, h.id))
