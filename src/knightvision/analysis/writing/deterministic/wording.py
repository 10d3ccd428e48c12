"""How the deterministic text writes numbers, quotations and platform names."""

from __future__ import annotations


def seconds_text(value: float) -> str:
    return f"{value:.1f} s"


def percent_text(share: float) -> str:
    return f"{round(share * 100)}%"


def quote(text: str, limit: int = 120) -> str:
    """``text`` as a quotation, cut at a word boundary when longer than ``limit``."""
    text = " ".join(str(text).split()).replace('"', "'").rstrip(".")
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f'"{text}"'
