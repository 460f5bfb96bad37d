"""jpeval: a Japanese-language LLM evaluation harness (keigo, culture, administrative Japanese)."""

__version__ = "0.1.0"
