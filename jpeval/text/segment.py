"""Morphemes by fugashi + unidic-lite (the one segmenter used by metrics)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jpeval.text.normalize import normalize

SEGMENTER_VERSION = "fugashi+unidic-lite/1"


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi

    return fugashi.Tagger()


def morphemes(text: str) -> list[str]:
    """Surface forms of the morphemes of the normalised text, punctuation dropped."""
    return [
        w.surface for w in _tagger()(normalize(text)) if not w.feature.pos1.startswith("補助記号")
    ]
