"""Who the presenter is: a look read from the prompt's words, the rest from a hash of it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TypeVar

from ..colour import RGB, hsv, shade
from .vocabulary import (
    BACKDROP_WORDS,
    BEARD,
    COLOURS,
    DARKER,
    ELDERLY,
    EYE_COLOURS,
    FEMININE,
    FILLERS,
    GARMENTS,
    GLASSES,
    HAIR_COLOURS,
    HAIR_NOUNS,
    LIGHTER,
    MASCULINE,
    NATURAL_HAIR,
    OUTFIT_WORDS,
    SKIN_TONES,
    SKIN_WORDS,
    SUGGESTIVE,
    WEARING,
)

T = TypeVar("T")

_WORD = re.compile(r"[a-z]+")


def _digest(text: str) -> bytes:
    """The seed of every trait the prompt leaves open; case and spacing do not change it."""
    return hashlib.sha256(
        ("presenter\x1f" + " ".join(text.lower().split())).encode("utf-8")
    ).digest()


def _pick(options: tuple[T, ...], byte: int) -> T:
    """One of options, chosen by a seed byte."""
    return options[byte % len(options)]


@dataclass(frozen=True)
class PresenterLook:
    """Everything that makes one presenter recognisable; a pure function of the prompt."""

    skin: RGB
    hair: RGB
    hair_style: str  # short | long | curly | bun | bald
    eyes: RGB
    outfit: str  # suit | casual | hoodie | sweater | labcoat | apron | dress
    clothing: RGB  # the outer garment
    shirt: RGB  # what shows under it (shirt under a jacket or coat)
    accent: RGB  # tie, apron, drawstrings
    glasses: bool
    beard: bool
    stethoscope: bool
    # office | city | beach | nature | kitchen | studio | space | home | classroom | gym | plain
    backdrop: str
    hue: float  # the backdrop's base hue
    seed: bytes = field(repr=False)


def _colour_phrases(
    words: list[str],
) -> tuple[RGB | None, list[tuple[str, RGB]], RGB | None, RGB | None, RGB | None]:
    """Colours the prompt ties to something: hair, eyes, skin, garments, or "in <colour>"."""
    hair: RGB | None = None
    garments: list[tuple[str, RGB]] = []
    eyes: RGB | None = None
    skin: RGB | None = None
    worn: RGB | None = None
    for i, word in enumerate(words):
        colour = COLOURS.get(word) or HAIR_COLOURS.get(word)
        if colour is None:
            continue
        before = words[i - 1] if i > 0 else ""
        if before in LIGHTER:
            colour = shade(colour, 1.35)
        elif before in DARKER:
            colour = shade(colour, 0.6)
        target = None
        for following in words[i + 1 : i + 4]:
            if following in HAIR_NOUNS:
                target = "hair"
            elif following in ("eyes", "eyed"):
                target = "eyes"
            elif following in ("skin", "skinned", "complexion"):
                target = "skin"
            elif following in GARMENTS:
                target = following
            elif (
                following in COLOURS
                or following in LIGHTER
                or following in DARKER
                or following in FILLERS
            ):
                continue
            break
        if target == "hair":
            hair = hair or (
                HAIR_COLOURS.get(word, colour) if before not in LIGHTER | DARKER else colour
            )
        elif target == "eyes":
            eyes = eyes or EYE_COLOURS.get(word, colour)
        elif target == "skin":
            pass  # skin tone words are read below, never colour names
        elif target is not None:
            garments.append((target, colour))
        elif before in WEARING or (
            i > 1 and words[i - 2] in WEARING and before in LIGHTER | DARKER
        ):
            worn = worn or colour
    for i, word in enumerate(words):
        if word in ("blonde", "blond", "brunette", "ginger", "auburn", "redhead") and hair is None:
            hair = HAIR_COLOURS["red"] if word == "redhead" else HAIR_COLOURS[word]
        if (
            word in ("skin", "skinned", "complexion")
            and i > 0
            and words[i - 1] in SKIN_WORDS
            and skin is None
        ):
            skin = SKIN_TONES[SKIN_WORDS[words[i - 1]]]
        if word == "tanned" and skin is None:
            skin = SKIN_TONES[3]
    return hair, garments, eyes, skin, worn


def presenter_look(prompt: str) -> PresenterLook:
    """Read a presenter from the prompt; the same prompt always gives the same person."""
    seed = _digest(prompt)
    words = _WORD.findall(prompt.lower())
    vocabulary = set(words)
    hair, garments, eyes, skin_tone, worn = _colour_phrases(words)

    outfit = "casual"
    for name, triggers in OUTFIT_WORDS:
        if vocabulary & triggers:
            outfit = name
            break
    garment_colour = dict(reversed(garments))  # the first mention wins

    def garment(*nouns: str) -> RGB | None:
        for noun in nouns:
            if noun in garment_colour:
                return garment_colour[noun]
        return None

    any_garment = garments[0][1] if garments else worn
    if outfit == "suit":
        clothing = (
            garment("suit", "blazer", "jacket", "tuxedo", "coat")
            or worn
            or _pick(
                (
                    (26, 38, 88),
                    (56, 58, 64),
                    (30, 30, 34),
                    (96, 98, 104),
                    (92, 64, 44),
                    (40, 60, 70),
                ),
                seed[0],
            )
        )
        shirt = garment("shirt", "blouse") or _pick(
            ((242, 242, 240), (200, 220, 240), (236, 232, 220)), seed[1]
        )
        accent = garment("tie") or _pick(
            ((170, 24, 40), (36, 80, 170), (118, 26, 48), (30, 110, 70), (200, 150, 40)), seed[2]
        )
    elif outfit == "labcoat":
        clothing = garment("coat") or (238, 240, 242)
        shirt = garment("scrubs", "shirt", "blouse", "top") or _pick(
            ((70, 160, 170), (90, 140, 200), (120, 160, 120)), seed[1]
        )
        accent = (150, 150, 156)
    elif outfit == "apron":
        shirt = garment("shirt", "top", "tshirt", "tee", "blouse") or _pick(
            ((240, 240, 236), (30, 30, 34), (200, 210, 220)), seed[1]
        )
        clothing = shirt
        accent = (
            garment("apron")
            or worn
            or _pick(
                ((40, 84, 60), (26, 38, 88), (30, 30, 34), (120, 80, 44), (150, 40, 40)), seed[2]
            )
        )
    else:
        clothing = (
            garment(
                outfit,
                "hoodie",
                "sweater",
                "jumper",
                "cardigan",
                "dress",
                "shirt",
                "tshirt",
                "tee",
                "top",
                "blouse",
                "polo",
                "sweatshirt",
                "turtleneck",
                "outfit",
            )
            or any_garment
            or hsv(seed[0] / 256, 0.55 + seed[1] / 1024, 0.55 + seed[2] / 1024)
        )
        shirt = shade(clothing, 0.8)
        accent = shade(clothing, 1.5)

    feminine = bool(vocabulary & FEMININE)
    masculine = bool(vocabulary & MASCULINE)
    elderly = bool(vocabulary & ELDERLY)
    if "bald" in vocabulary or "shaved" in vocabulary:
        hair_style = "bald"
    elif vocabulary & {"curly", "afro", "curls", "wavy"}:
        hair_style = "curly"
    elif vocabulary & {"ponytail", "bun"}:
        hair_style = "bun"
    elif _near(words, "long", ("hair", "haired")):
        hair_style = "long"
    elif _near(words, "short", ("hair", "haired")) or "buzz" in vocabulary:
        hair_style = "short"
    elif feminine and not masculine:
        hair_style = ("long", "long", "bun", "curly")[seed[3] % 4]
    elif masculine and not feminine:
        hair_style = ("short", "short", "short", "curly")[seed[3] % 4]
    else:
        hair_style = ("short", "long", "curly", "bun", "short")[seed[3] % 5]
    hair_colour = hair or ((184, 184, 186) if elderly else _pick(NATURAL_HAIR, seed[4]))

    # A named place ("in an office") wins over a word that only suggests one ("news anchor").
    places = [
        BACKDROP_WORDS[word] for word in words if word in BACKDROP_WORDS and word not in SUGGESTIVE
    ]
    hints = [
        BACKDROP_WORDS[word] for word in words if word in BACKDROP_WORDS and word in SUGGESTIVE
    ]
    backdrop = (places or hints or ["plain"])[0]

    return PresenterLook(
        skin=skin_tone or _pick(SKIN_TONES, seed[5]),
        hair=hair_colour,
        hair_style=hair_style,
        eyes=eyes or _pick(tuple(EYE_COLOURS.values())[:5], seed[6]),
        outfit=outfit,
        clothing=clothing,
        shirt=shirt,
        accent=accent,
        glasses=bool(vocabulary & GLASSES),
        beard=bool(vocabulary & BEARD) and not (feminine and not masculine),
        stethoscope=outfit == "labcoat"
        and bool(vocabulary & {"doctor", "nurse", "physician", "surgeon"}),
        backdrop=backdrop,
        hue=seed[7] / 256,
        seed=seed,
    )


def _near(words: list[str], word: str, targets: tuple[str, ...], reach: int = 3) -> bool:
    return any(
        w == word and any(t in words[i + 1 : i + 1 + reach] for t in targets)
        for i, w in enumerate(words)
    )
