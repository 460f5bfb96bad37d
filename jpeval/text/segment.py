"""Morphemes by fugashi + unidic-lite: the one tagger used by metrics and analysers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jpeval.text.normalize import normalize

SEGMENTER_VERSION = "fugashi+unidic-lite/1"


@lru_cache(maxsize=1)
def tagger() -> Any:
    """The fugashi tagger (unidic-lite), loaded on first use."""
    import fugashi

    return fugashi.Tagger()


def words_with_spans(text: str) -> list[tuple[Any, int, int]]:
    """fugashi words of ``text`` (not normalised) with their character offsets [start, end)."""
    out, pos = [], 0
    for w in tagger()(text):
        start = text.find(w.surface, pos)
        start = pos if start < 0 else start
        pos = start + len(w.surface)
        out.append((w, start, pos))
    return out


def morphemes(text: str) -> list[str]:
    """Surface forms of the morphemes of the normalised text, punctuation dropped."""
    words = tagger()(normalize(text))
    return [w.surface for w in words if not w.feature.pos1.startswith("補助記号")]
