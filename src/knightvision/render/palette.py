"""The ad's colours: a brand hue from the request or the prompt, and text that can be read.

``brand_color`` ("#RRGGBB") wins; otherwise the first colour word of the prompt (en, es, pt, fr,
de) gives the hue; otherwise a hash of the prompt does, so a render is reproducible. Every text
colour is checked against what it sits on with the WCAG 2.x contrast ratio (at least 4.5:1, the
AA level for normal text), and the background gives way when it is too close.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass

from knightvision.media.brand_color import BRAND_COLOR

from .colour import RGB, blend, hsv, shade

MIN_CONTRAST = 4.5  # WCAG 2.x AA, normal text
WHITE: RGB = (255, 255, 255)
INK: RGB = (17, 17, 24)
BLACK: RGB = (0, 0, 0)

# Hue (0..1 of the wheel) of colour words; the first one the prompt names sets the palette.
_HUES = {
    0.0: "red|roj[oa]s?|vermelh[oa]s?|rouges?|rot|rote[nrs]?|crimson|cherry|cereza|cerise",
    0.07: "orange|naranjas?|laranjas?|coral|peach|melocot[oó]n|p[eê]ssego|p[eê]che|pfirsich",
    0.11: "gold|golden|dorad[oa]s?|dourad[oa]s?|dor[ée]e?|golden[e]?|amber|caramel|coffee|"
    "caf[ée]|kaffee|brown|marr[oó]n|marrom|brun|braun",
    0.15: "yellow|amarill[oa]s?|amarel[oa]s?|jaunes?|gelb|gelbe[nrs]?|lemon|lim[oó]n|lim[aã]o|"
    "citron",
    0.33: "green|verdes?|verte?s?|gr[üu]n|gr[üu]ne[nrs]?|mint|menta|lime|olive|forest|matcha",
    0.48: "teal|turquoise|turquesas?|t[üu]rkis|cyan|aqua|ocean|oc[ée]an|ozean",
    0.6: "blue|azul(?:es)?|bleue?s?|blau|blaue[nrs]?|navy|marine|sky|cielo|c[ée]u|ciel|himmel",
    0.75: "purple|violet|violetas?|morad[oa]s?|rox[oa]s?|lila|violett|lavender|lavanda|lavande",
    0.9: "pink|rosas?|roses?|magenta|fuchsia|f[úu]csia",
}
_COLOUR_WORD = re.compile(
    "|".join(f"(?P<h{i}>(?<!\\w)(?:{words})(?!\\w))" for i, words in enumerate(_HUES.values())),
    re.IGNORECASE,
)


def parse_brand_color(value: str) -> RGB:
    """ "#RRGGBB" -> RGB; ValueError for anything else."""
    if not isinstance(value, str) or not BRAND_COLOR.fullmatch(value):
        raise ValueError('brand_color must be a "#RRGGBB" hex colour')
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def relative_luminance(colour: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours, 1..21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(*backgrounds: RGB) -> RGB:
    """White or ink, whichever reads better on the worst of the backgrounds; pure black when
    neither reaches 4.5:1 (a mid blue: white or black always does, 4.58:1 at worst)."""

    def worst(text: RGB) -> float:
        return min(contrast_ratio(text, bg) for bg in backgrounds)

    best = max((WHITE, INK), key=worst)
    return best if worst(best) >= MIN_CONTRAST else max((WHITE, BLACK), key=worst)


def readable_background(background: RGB, text: RGB, glow: float = 0.0) -> RGB:
    """background, darkened or lightened (away from text) until text reaches 4.5:1 on it and
    on it lit by a white glow of strength `glow` (the backgrounds' soft light blobs)."""
    darker = relative_luminance(text) > 0.5
    factor = 1.0
    colour = background

    def worst(c: RGB) -> float:
        return min(contrast_ratio(text, c), contrast_ratio(text, blend(c, WHITE, glow)))

    while worst(colour) < MIN_CONTRAST:
        factor = factor * 0.92 if darker else factor + 0.08
        colour = shade(background, factor)
    return colour


def prompt_hue(prompt: str) -> float:
    """The hue of the first colour word of the prompt, else one derived from its text."""
    match = _COLOUR_WORD.search(prompt)
    if match is not None and match.lastgroup is not None:
        return list(_HUES)[int(match.lastgroup[1:])]
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:2]) / 65536


@dataclass(frozen=True)
class BrandPalette:
    """The ad's colours: the brand colour (buttons, badges, accents) and its hue."""

    brand: RGB
    hue: float

    @classmethod
    def from_request(cls, prompt: str, brand_color: str | None = None) -> BrandPalette:
        if brand_color is not None:
            brand = parse_brand_color(brand_color)
            hue = colorsys.rgb_to_hsv(*(c / 255 for c in brand))[0]
            return cls(brand, hue)
        hue = prompt_hue(prompt)
        return cls(hsv(hue, 0.85, 0.95), hue)
