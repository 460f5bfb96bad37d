"""The one Japanese answer normaliser used by every metric.

Steps: Unicode NFKC (全角英数 → 半角, 半角カナ → 全角), all whitespace runs to one
space and stripped, one pair of enclosing quotes/brackets removed, and trailing
sentence punctuation dropped. Bump ``NORMALIZER_VERSION`` when behaviour changes:
it is recorded in every results file.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = "1"

_SPACE = re.compile(r"\s+")
_PAIRS = {"「": "」", "『": "』", '"': '"', "'": "'", "“": "”", "(": ")", "【": "】"}
_TRAILING = "。.、,!?"


def normalize(text: str) -> str:
    """Normalise an answer string for comparison (see module docstring)."""
    s = unicodedata.normalize("NFKC", text)
    s = _SPACE.sub(" ", s).strip()
    if len(s) >= 2 and _PAIRS.get(s[0]) == s[-1]:
        s = s[1:-1].strip()
    return s.rstrip(_TRAILING).rstrip()
