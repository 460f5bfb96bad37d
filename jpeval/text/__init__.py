"""Japanese text utilities shared by metrics and tasks."""

from jpeval.text.normalize import NORMALIZER_VERSION, normalize

__all__ = ["NORMALIZER_VERSION", "normalize"]
