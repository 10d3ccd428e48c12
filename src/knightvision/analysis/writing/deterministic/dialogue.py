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


#: Connecting lines per language (the five the offer and the call to action are read in); "{}" is
#: the product's name. Other languages get the English lines: the script says the creator speaks
#: the ad's language, and these lines carry no fact to lose in translation.
_CONNECTING = {
    "en": ("Okay, look at this.", "Here's what bugged me before.", "Then I found {}.",
           "Here's how it went.", "Check out {}.", "Take a look yourself.", "this"),
    "es": ("Mira esto.", "Esto es lo que me molestaba.", "Entonces encontré {}.",
           "Así me fue.", "Echa un vistazo a {}.", "Míralo tú mismo.", "esto"),
    "pt": ("Olha só isto.", "Isto é o que me incomodava.", "Então encontrei {}.",
           "Foi assim que correu.", "Dá uma olhada em {}.", "Veja você mesmo.", "isto"),
    "fr": ("Regardez ça.", "Voilà ce qui me gênait.", "Puis j'ai trouvé {}.",
           "Voilà le résultat.", "Découvrez {}.", "Voyez par vous-même.", "ça"),
    "de": ("Schau dir das an.", "Das hat mich vorher gestört.", "Dann habe ich {} gefunden.",
           "So lief es.", "Schau dir {} an.", "Sieh selbst.", "das"),
}  # fmt: skip


def connecting_line(beat: str, product: str | None, language: str | None = None) -> str:
    """A line for a beat the ad gives nothing to say in, in the ad's language where we have one;
    it claims nothing about the product."""
    hook, problem, solution, proof, cta, cta_unnamed, this = _CONNECTING.get(
        (language or "en").lower()[:2], _CONNECTING["en"]
    )
    name = product or this
    return {
        "hook": hook,
        "problem": problem,
        "solution": solution.format(name),
        "proof": proof,
        "cta": cta.format(name) if product else cta_unnamed,
    }[beat]


def as_sentence(text: str) -> str:
    """Ends with punctuation, so a renderer speaking it pauses there."""
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?…" else text + "."
