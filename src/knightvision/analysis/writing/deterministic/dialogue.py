"""What the creator says in each beat: the ad's own lines, cut to what the beat's time holds at a
natural speaking rate, and a plain connecting line where the ad gives a beat nothing to say.

The connecting lines make no claim (no numbers, results or offers the ad did not state); they
name the product only when the ad itself names it.
"""

from __future__ import annotations

import re

from knightvision.analysis.writing.deterministic.facts import Line

WORDS_PER_SECOND = 2.6  # ~155 words a minute: natural speech with room to breathe
_CLAUSE_END = re.compile(r"(?<=[,;:—–-])\s+|\s+(?=(?:and|but|so|then|because)\b)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def word_budget(seconds: float) -> int:
    return max(1, int(seconds * WORDS_PER_SECOND))


def fit(lines: list[Line], seconds: float, *, keep_last: bool = False) -> str:
    """Whole lines, in order, while they fit; the first (for the CTA the last) always, shortened
    to its first clauses when it alone is too long."""
    budget = word_budget(seconds)
    kept: list[str] = []
    words = 0
    for line in reversed(lines) if keep_last else lines:
        count = len(line.text.split())
        if kept and words + count > budget:
            break
        kept.append(line.text)
        words += count
    if keep_last:
        kept.reverse()
    text = " ".join(as_sentence(part) for part in kept)
    return text if len(text.split()) <= budget else shorten(text, budget)


def shorten(text: str, budget: int) -> str:
    """The longest run of whole sentences, else of whole clauses, within ``budget`` words; a bare
    cut at the budget only when even the first clause is longer."""
    for splitter in (_SENTENCE_END, _CLAUSE_END):
        pieces = [piece for piece in splitter.split(text) if piece.strip()]
        kept: list[str] = []
        for piece in pieces:
            if len(" ".join([*kept, piece]).split()) > budget:
                break
            kept.append(piece)
        if kept:
            return as_sentence(" ".join(kept).rstrip(",;:—–- "))
    return as_sentence(" ".join(text.split()[:budget]).rstrip(",;:—–- "))


def connecting_line(beat: str, product: str | None) -> str:
    """A line for a beat the ad gives nothing to say in; it claims nothing about the product."""
    name = product or "this"
    return {
        "hook": "Okay, look at this.",
        "problem": "Here's what bugged me before.",
        "solution": f"Then I found {name}.",
        "proof": "Here's how it went.",
        "cta": f"Check out {name}." if product else "Take a look yourself.",
    }[beat]


def as_sentence(text: str) -> str:
    """Ends with punctuation, so a renderer speaking it pauses there."""
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?…" else text + "."
