"""The presenter figure: a stylised person built from a prompt, for character videos (issue 4).

``presenter_look(prompt)`` reads the prompt's words: clothing style and colours ("a red hoodie",
"navy suit", "in green"), hair colour and style ("curly grey hair", "bald"), glasses, a beard, eye
colour, skin tone when the prompt states it ("fair-skinned"), and a backdrop suggested by the
setting ("office", "beach", "city", "kitchen", …). Whatever the prompt leaves open comes from a
hash of it, so the same prompt always gives the same person and different prompts rarely look
alike. Nothing is guessed from words that describe people rather than looks.

``render_presenter`` draws that person once, as a few layers pre-converted to YUV (body; head with
eyes open and closed) over a pre-drawn, slightly blurred backdrop, and per frame only moves them:
the figure rises and settles with its breath, the head sways a little, and the eyes blink at
irregular intervals. Exact WxH and duration, H.264 + a silent AAC track, like every local render.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .encode import Mp4Writer
from .speech import silent_track
from .yuv import YUV_FORMAT, Overlay, planes, rgb_to_yuv420

RGB = tuple[int, int, int]

MAX_DURATION = 60
SUPERSAMPLE = 2  # layers are drawn at twice the size and scaled down: smooth edges
PROGRESS_EVERY = 10

# Colour words (RGB), and modifiers that lighten or darken the colour after them.
COLOURS: dict[str, RGB] = {
    "red": (196, 36, 44),
    "crimson": (170, 20, 50),
    "scarlet": (220, 40, 30),
    "maroon": (120, 24, 36),
    "burgundy": (118, 26, 48),
    "pink": (236, 120, 170),
    "magenta": (200, 40, 150),
    "orange": (238, 126, 28),
    "yellow": (238, 204, 40),
    "mustard": (206, 164, 36),
    "gold": (212, 170, 52),
    "golden": (212, 170, 52),
    "green": (40, 150, 72),
    "olive": (118, 122, 46),
    "lime": (150, 210, 60),
    "teal": (20, 132, 136),
    "turquoise": (40, 190, 190),
    "cyan": (40, 190, 220),
    "blue": (36, 92, 200),
    "navy": (26, 38, 88),
    "purple": (118, 58, 168),
    "violet": (140, 80, 200),
    "lavender": (180, 160, 220),
    "brown": (116, 74, 40),
    "tan": (196, 160, 112),
    "beige": (214, 196, 160),
    "cream": (238, 228, 200),
    "white": (240, 240, 236),
    "black": (30, 30, 34),
    "grey": (128, 128, 134),
    "gray": (128, 128, 134),
    "charcoal": (56, 58, 64),
    "silver": (190, 192, 200),
}
LIGHTER = {"light", "pale", "bright", "pastel", "soft"}
DARKER = {"dark", "deep"}

HAIR_COLOURS: dict[str, RGB] = {
    "black": (28, 24, 24),
    "brown": (92, 58, 32),
    "blonde": (226, 190, 112),
    "blond": (226, 190, 112),
    "auburn": (150, 62, 30),
    "red": (170, 66, 28),
    "ginger": (190, 92, 36),
    "grey": (176, 176, 178),
    "gray": (176, 176, 178),
    "silver": (200, 202, 208),
    "white": (232, 232, 230),
    "brunette": (88, 54, 30),
}
NATURAL_HAIR: tuple[RGB, ...] = (
    (28, 24, 24),
    (56, 38, 28),
    (92, 58, 32),
    (128, 90, 54),
    (214, 178, 104),
    (150, 62, 30),
)
SKIN_TONES: tuple[RGB, ...] = (
    (250, 222, 200),
    (236, 196, 164),
    (214, 166, 128),
    (190, 138, 98),
    (150, 100, 66),
    (104, 68, 44),
)
SKIN_WORDS = {
    "pale": 0,
    "fair": 0,
    "light": 1,
    "olive": 2,
    "tan": 3,
    "tanned": 3,
    "brown": 4,
    "dark": 5,
    "deep": 5,
}
EYE_COLOURS: dict[str, RGB] = {
    "brown": (96, 60, 32),
    "hazel": (132, 104, 52),
    "blue": (60, 120, 190),
    "green": (64, 132, 80),
    "grey": (120, 130, 140),
    "gray": (120, 130, 140),
    "amber": (180, 120, 40),
    "black": (40, 30, 26),
}

GARMENTS = {
    "shirt",
    "suit",
    "jacket",
    "blazer",
    "dress",
    "sweater",
    "hoodie",
    "coat",
    "blouse",
    "top",
    "uniform",
    "apron",
    "jumper",
    "cardigan",
    "vest",
    "polo",
    "scrubs",
    "tie",
    "tuxedo",
    "gown",
    "sweatshirt",
    "outfit",
    "tshirt",
    "tee",
    "clothes",
    "turtleneck",
}
# Outfit styles, checked in this order; the first whose words the prompt uses wins.
OUTFIT_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "labcoat",
        frozenset(
            {
                "doctor",
                "nurse",
                "scientist",
                "physician",
                "dentist",
                "chemist",
                "pharmacist",
                "surgeon",
                "lab",
                "scrubs",
            }
        ),
    ),
    (
        "apron",
        frozenset(
            {
                "chef",
                "cook",
                "baker",
                "barista",
                "apron",
                "waiter",
                "waitress",
                "butcher",
                "bartender",
            }
        ),
    ),
    (
        "suit",
        frozenset(
            {
                "suit",
                "blazer",
                "tuxedo",
                "business",
                "businessman",
                "businesswoman",
                "executive",
                "ceo",
                "lawyer",
                "banker",
                "manager",
                "salesman",
                "saleswoman",
                "sales",
                "corporate",
                "formal",
                "consultant",
                "realtor",
                "entrepreneur",
                "founder",
                "politician",
                "anchor",
                "presenter",
                "jacket",
            }
        ),
    ),
    (
        "hoodie",
        frozenset(
            {
                "hoodie",
                "hooded",
                "sweatshirt",
                "gamer",
                "streamer",
                "skater",
                "developer",
                "programmer",
                "coder",
                "hacker",
            }
        ),
    ),
    (
        "sweater",
        frozenset(
            {
                "sweater",
                "jumper",
                "cardigan",
                "knit",
                "turtleneck",
                "teacher",
                "professor",
                "cozy",
                "cosy",
                "librarian",
            }
        ),
    ),
    ("dress", frozenset({"dress", "gown"})),
)
FEMININE = {
    "woman",
    "women",
    "female",
    "she",
    "her",
    "lady",
    "girl",
    "businesswoman",
    "mother",
    "mom",
    "mum",
    "grandmother",
    "grandma",
    "actress",
    "waitress",
    "saleswoman",
    "queen",
    "princess",
    "aunt",
    "sister",
}
MASCULINE = {
    "man",
    "men",
    "male",
    "he",
    "his",
    "guy",
    "boy",
    "businessman",
    "father",
    "dad",
    "grandfather",
    "grandpa",
    "gentleman",
    "salesman",
    "king",
    "prince",
    "uncle",
    "brother",
}
ELDERLY = {
    "old",
    "elderly",
    "senior",
    "grandmother",
    "grandma",
    "grandfather",
    "grandpa",
    "retired",
    "aged",
}
GLASSES = {
    "glasses",
    "spectacles",
    "bespectacled",
    "nerd",
    "nerdy",
    "professor",
    "librarian",
    "scientist",
}
BEARD = {"beard", "bearded", "stubble", "goatee", "mustache", "moustache"}

# Backdrops, by the first setting word in the prompt.
BACKDROP_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "office",
            "desk",
            "boardroom",
            "workplace",
            "corporate",
            "meeting",
            "conference",
            "coworking",
            "startup",
            "agency",
        ),
        "office",
    ),
    **dict.fromkeys(
        (
            "city",
            "urban",
            "street",
            "downtown",
            "skyline",
            "futuristic",
            "rooftop",
            "metropolis",
            "neon",
            "cyberpunk",
        ),
        "city",
    ),
    **dict.fromkeys(
        ("beach", "ocean", "sea", "seaside", "coast", "tropical", "island", "surf", "shore"),
        "beach",
    ),
    **dict.fromkeys(
        (
            "forest",
            "park",
            "garden",
            "woods",
            "nature",
            "jungle",
            "mountain",
            "mountains",
            "outdoors",
            "meadow",
            "farm",
        ),
        "nature",
    ),
    **dict.fromkeys(
        (
            "kitchen",
            "cafe",
            "coffee",
            "restaurant",
            "bakery",
            "bar",
            "diner",
            "bistro",
            "shop",
            "store",
        ),
        "kitchen",
    ),
    **dict.fromkeys(
        (
            "studio",
            "podcast",
            "stage",
            "broadcast",
            "news",
            "newsroom",
            "tv",
            "television",
            "interview",
            "spotlight",
            "theater",
            "theatre",
        ),
        "studio",
    ),
    **dict.fromkeys(
        ("space", "galaxy", "stars", "cosmic", "planet", "astronaut", "spaceship", "universe"),
        "space",
    ),
    **dict.fromkeys(
        ("home", "living", "house", "bedroom", "couch", "sofa", "apartment", "lounge"), "home"
    ),
    **dict.fromkeys(
        ("classroom", "school", "lecture", "university", "college", "campus", "library", "teacher"),
        "classroom",
    ),
    **dict.fromkeys(("gym", "fitness", "workout", "trainer", "sports", "yoga"), "gym"),
}
SUGGESTIVE = frozenset(
    {
        "news",
        "interview",
        "broadcast",
        "tv",
        "television",
        "podcast",
        "spotlight",
        "teacher",
        "trainer",
        "astronaut",
        "sports",
        "fitness",
        "workout",
        "yoga",
        "coffee",
        "meeting",
        "conference",
        "startup",
        "agency",
        "corporate",
        "futuristic",
        "neon",
        "cyberpunk",
        "tropical",
        "surf",
        "nature",
        "outdoors",
        "stars",
        "cosmic",
        "urban",
        "living",
    }
)
SUPPORTED_SIZES = frozenset(
    {(720, 1280), (1280, 720), (720, 720), (1080, 1920), (1920, 1080), (1080, 1080)}
)

_WORD = re.compile(r"[a-z]+")


def _digest(text: str) -> bytes:
    return hashlib.sha256(
        ("presenter\x1f" + " ".join(text.lower().split())).encode("utf-8")
    ).digest()


def _shade(colour: RGB, factor: float) -> RGB:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(max(0, min(255, round(c * factor))) for c in colour)  # type: ignore[return-value]
    mix = min(1.0, factor - 1.0)
    return tuple(round(c + (255 - c) * mix) for c in colour)  # type: ignore[return-value]


def _blend(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _pick(options: tuple, byte: int):  # type: ignore[no-untyped-def]
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
    backdrop: str  # office | city | beach | nature | kitchen | studio | space | home | classroom | gym | plain
    hue: float  # the backdrop's base hue
    seed: bytes = field(repr=False)


HAIR_NOUNS = {"hair", "haired", "hairstyle", "curls", "ponytail", "bun"}
WEARING = {"in", "wearing", "dressed", "wears"}
# Words that may sit between a colour and what it colours ("dark blue wool suit").
FILLERS = {
    "and",
    "with",
    "a",
    "striped",
    "plain",
    "wool",
    "woolen",
    "cotton",
    "silk",
    "leather",
    "denim",
    "t",
    "button",
    "down",
    "collared",
    "long",
    "short",
    "sleeved",
    "sleeve",
    "knit",
    "curly",
    "straight",
    "wavy",
}


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
            colour = _shade(colour, 1.35)
        elif before in DARKER:
            colour = _shade(colour, 0.6)
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
    garment_colour = {noun: colour for noun, colour in reversed(garments)}  # the first mention wins

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
            or _hsv(seed[0] / 256, 0.55 + seed[1] / 1024, 0.55 + seed[2] / 1024)
        )
        shirt = _shade(clothing, 0.8)
        accent = _shade(clothing, 1.5)

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


# Geometry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """Where the presenter stands in a WxH frame (output pixels)."""

    width: int
    height: int

    @property
    def r(self) -> float:  # half the head's height: every part is sized from it
        return min(0.12 * self.height, 0.17 * self.width)

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def head_cy(self) -> float:
        return 0.40 * self.height

    @property
    def shoulders_y(self) -> float:
        return self.head_cy + 1.45 * self.r

    @property
    def breath(self) -> int:  # how far the figure rises on an in-breath, pixels
        return max(2, round(0.005 * self.height))


class _Pen:
    """Draws on a supersampled RGBA layer in output-pixel coordinates relative to an origin."""

    def __init__(self, size: tuple[int, int], origin: tuple[float, float]) -> None:
        self.size = size
        self.origin = origin
        self.image = Image.new("RGBA", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def _xy(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        ox, oy = self.origin
        return [((x - ox) * SUPERSAMPLE, (y - oy) * SUPERSAMPLE) for x, y in points]

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        (a, b), (c, d) = self._xy([(x0, y0), (x1, y1)])
        return [a, b, c, d]

    def ellipse(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: RGB,
        outline: RGB | None = None,
        width: float = 0,
    ) -> None:
        self.draw.ellipse(
            self.box(x0, y0, x1, y1),
            fill=fill,
            outline=outline,
            width=max(0, round(width * SUPERSAMPLE)),
        )

    def polygon(self, points: list[tuple[float, float]], fill: RGB) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def rounded(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        radius: float,
        fill: RGB | None,
        outline: RGB | None = None,
        width: float = 0,
    ) -> None:
        self.draw.rounded_rectangle(
            self.box(x0, y0, x1, y1),
            radius=radius * SUPERSAMPLE,
            fill=fill,
            outline=outline,
            width=max(0, round(width * SUPERSAMPLE)),
        )

    def line(self, points: list[tuple[float, float]], fill: RGB, width: float) -> None:
        self.draw.line(
            self._xy(points), fill=fill, width=max(1, round(width * SUPERSAMPLE)), joint="curve"
        )

    def arc(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        start: float,
        end: float,
        fill: RGB,
        width: float,
    ) -> None:
        self.draw.arc(
            self.box(x0, y0, x1, y1),
            start,
            end,
            fill=fill,
            width=max(1, round(width * SUPERSAMPLE)),
        )

    def chord(
        self, x0: float, y0: float, x1: float, y1: float, start: float, end: float, fill: RGB
    ) -> None:
        self.draw.chord(self.box(x0, y0, x1, y1), start, end, fill=fill)

    def done(self) -> Image.Image:
        return self.image.resize(self.size, Image.Resampling.LANCZOS)


def draw_body(look: PresenterLook, fig: Figure) -> tuple[Image.Image, tuple[int, int]]:
    """Neck, torso and clothes, as an RGBA layer and its top-left corner in the frame."""
    r, cx, ys = fig.r, fig.cx, fig.shoulders_y
    left, top = round(cx - 2.7 * r), round(fig.head_cy + 0.4 * r)
    bottom = fig.height + fig.breath + 4  # rising with a breath must never show a gap below
    pen = _Pen((round(5.4 * r), bottom - top), (left, top))
    sw, bw = 2.05 * r, 2.4 * r
    clothing, dark = look.clothing, _shade(look.clothing, 0.72)

    if look.outfit == "hoodie":  # the hood, draped behind the neck
        pen.ellipse(cx - 1.15 * r, ys - 0.6 * r, cx + 1.15 * r, ys + 0.6 * r, _shade(clothing, 0.6))
    pen.rounded(
        cx - 0.36 * r,
        fig.head_cy + 0.45 * r,
        cx + 0.36 * r,
        ys + 0.4 * r,
        0.2 * r,
        _shade(look.skin, 0.86),
    )
    # torso: rounded shoulders widening towards the bottom of the frame
    pen.ellipse(cx - sw, ys, cx + sw, ys + 1.9 * r, clothing)
    pen.polygon(
        [(cx - sw, ys + 0.95 * r), (cx + sw, ys + 0.95 * r), (cx + bw, bottom), (cx - bw, bottom)],
        clothing,
    )
    for side in (-1, 1):  # where the arms meet the chest
        pen.line(
            [(cx + side * (sw - 0.5 * r), ys + 1.0 * r), (cx + side * (bw - 0.55 * r), bottom)],
            dark,
            0.07 * r,
        )

    if look.outfit in ("suit", "labcoat"):
        v_bottom = ys + (1.9 if look.outfit == "suit" else 2.3) * r
        pen.polygon(
            [(cx - 0.62 * r, ys - 0.05 * r), (cx + 0.62 * r, ys - 0.05 * r), (cx, v_bottom)],
            look.shirt,
        )
        if look.outfit == "labcoat":
            pen.polygon(
                [
                    (cx - 0.45 * r, v_bottom - 0.6 * r),
                    (cx + 0.45 * r, v_bottom - 0.6 * r),
                    (cx + 0.45 * r, bottom),
                    (cx - 0.45 * r, bottom),
                ],
                look.shirt,
            )
        collar = _shade(look.shirt, 1.25)
        pen.polygon(
            [
                (cx - 0.55 * r, ys - 0.08 * r),
                (cx - 0.05 * r, ys + 0.32 * r),
                (cx - 0.36 * r, ys + 0.52 * r),
            ],
            collar,
        )
        pen.polygon(
            [
                (cx + 0.55 * r, ys - 0.08 * r),
                (cx + 0.05 * r, ys + 0.32 * r),
                (cx + 0.36 * r, ys + 0.52 * r),
            ],
            collar,
        )
        if look.outfit == "suit":  # tie: knot and blade
            pen.polygon(
                [
                    (cx - 0.13 * r, ys + 0.22 * r),
                    (cx + 0.13 * r, ys + 0.22 * r),
                    (cx + 0.09 * r, ys + 0.46 * r),
                    (cx - 0.09 * r, ys + 0.46 * r),
                ],
                look.accent,
            )
            pen.polygon(
                [
                    (cx - 0.09 * r, ys + 0.46 * r),
                    (cx + 0.09 * r, ys + 0.46 * r),
                    (cx + 0.2 * r, v_bottom - 0.15 * r),
                    (cx, v_bottom + 0.1 * r),
                    (cx - 0.2 * r, v_bottom - 0.15 * r),
                ],
                look.accent,
            )
        lapel = _shade(clothing, 0.82 if look.outfit == "suit" else 0.9)
        for side in (-1, 1):
            pen.polygon(
                [
                    (cx + side * 0.62 * r, ys - 0.05 * r),
                    (cx + side * 0.95 * r, ys + 0.15 * r),
                    (cx + side * 0.55 * r, ys + 0.95 * r),
                    (cx, v_bottom),
                ],
                lapel,
            )
        for k in range(2):
            pen.ellipse(
                cx - 0.07 * r,
                v_bottom + (0.35 + 0.55 * k) * r,
                cx + 0.07 * r,
                v_bottom + (0.49 + 0.55 * k) * r,
                _shade(clothing, 0.5),
            )
        if look.stethoscope:
            pen.arc(
                cx - 0.75 * r,
                ys - 0.5 * r,
                cx + 0.75 * r,
                ys + 1.3 * r,
                20,
                160,
                (70, 72, 78),
                0.08 * r,
            )
            pen.ellipse(cx + 0.35 * r, ys + 1.1 * r, cx + 0.6 * r, ys + 1.35 * r, (170, 172, 178))
    elif look.outfit == "apron":
        pen.ellipse(cx - 0.5 * r, ys - 0.3 * r, cx + 0.5 * r, ys + 0.4 * r, _shade(look.skin, 0.86))
        pen.arc(
            cx - 0.5 * r,
            ys - 0.3 * r,
            cx + 0.5 * r,
            ys + 0.4 * r,
            0,
            180,
            _shade(clothing, 0.7),
            0.08 * r,
        )
        pen.rounded(cx - 1.0 * r, ys + 0.9 * r, cx + 1.0 * r, bottom + r, 0.15 * r, look.accent)
        for side in (-1, 1):
            pen.line(
                [(cx + side * 0.9 * r, ys + 0.95 * r), (cx + side * 0.45 * r, ys + 0.1 * r)],
                look.accent,
                0.12 * r,
            )
        pen.rounded(
            cx - 0.45 * r,
            ys + 1.6 * r,
            cx + 0.45 * r,
            ys + 2.2 * r,
            0.08 * r,
            _shade(look.accent, 0.8),
        )
    else:
        neck_drop = {"sweater": 0.3, "dress": 0.65, "hoodie": 0.45}.get(look.outfit, 0.45)
        pen.ellipse(
            cx - 0.5 * r, ys - 0.3 * r, cx + 0.5 * r, ys + neck_drop * r, _shade(look.skin, 0.86)
        )
        rim = 0.14 * r if look.outfit == "sweater" else 0.07 * r
        pen.arc(
            cx - 0.5 * r,
            ys - 0.3 * r,
            cx + 0.5 * r,
            ys + neck_drop * r,
            0,
            180,
            _shade(clothing, 0.7),
            rim,
        )
        if look.outfit == "hoodie":
            for side in (-1, 1):
                pen.line(
                    [(cx + side * 0.28 * r, ys + 0.3 * r), (cx + side * 0.3 * r, ys + 1.25 * r)],
                    look.accent,
                    0.06 * r,
                )
            pen.rounded(
                cx - 0.95 * r,
                ys + 2.3 * r,
                cx + 0.95 * r,
                ys + 3.1 * r,
                0.3 * r,
                None,
                dark,
                0.06 * r,
            )
    return pen.done(), (left, top)


def draw_head(
    look: PresenterLook, fig: Figure, *, eyes_open: bool
) -> tuple[Image.Image, tuple[int, int]]:
    """Hair, face and features, as an RGBA layer and its top-left corner in the frame."""
    r, cx, cy = fig.r, fig.cx, fig.head_cy
    left, top = round(cx - 1.7 * r), round(cy - 1.6 * r)
    pen = _Pen((round(3.4 * r), round(3.6 * r)), (left, top))
    skin, hair = look.skin, look.hair
    hair_back = _shade(hair, 0.82)

    if look.hair_style == "long":
        pen.rounded(cx - 1.05 * r, cy - 0.9 * r, cx + 1.05 * r, cy + 1.85 * r, 0.75 * r, hair_back)
    elif look.hair_style == "bun":
        pen.ellipse(cx - 0.42 * r, cy - 1.5 * r, cx + 0.42 * r, cy - 0.72 * r, hair_back)
    elif look.hair_style == "curly":
        pen.ellipse(cx - 1.25 * r, cy - 1.45 * r, cx + 1.25 * r, cy + 0.75 * r, hair_back)
    for side in (-1, 1):  # ears
        pen.ellipse(
            cx + side * 0.8 * r - 0.14 * r,
            cy - 0.15 * r,
            cx + side * 0.8 * r + 0.14 * r,
            cy + 0.3 * r,
            _shade(skin, 0.9),
        )
    pen.ellipse(cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + r, skin)  # face

    if look.hair_style != "bald":
        pen.chord(cx - 0.88 * r, cy - 1.12 * r, cx + 0.88 * r, cy + 0.4 * r, 180, 360, hair)
        part = 0.25 * r if look.seed[8] % 2 else -0.25 * r
        pen.polygon(
            [
                (cx - 0.86 * r, cy - 0.34 * r),
                (cx + part, cy - 0.98 * r),
                (cx + 0.86 * r, cy - 0.34 * r),
                (cx + part * 0.4, cy - 0.5 * r),
            ],
            hair,
        )
        if look.hair_style == "long":
            for side in (-1, 1):
                pen.rounded(
                    cx + side * 0.74 * r - 0.15 * r,
                    cy - 0.5 * r,
                    cx + side * 0.74 * r + 0.15 * r,
                    cy + 0.95 * r,
                    0.12 * r,
                    hair,
                )
        if look.hair_style == "curly":
            for k in range(9):
                angle = math.pi * (1.05 + 0.9 * k / 8)
                x, y = cx + 0.86 * r * math.cos(angle), cy - 0.35 * r + 0.8 * r * math.sin(angle)
                pen.ellipse(x - 0.2 * r, y - 0.2 * r, x + 0.2 * r, y + 0.2 * r, hair)
    else:
        pen.ellipse(cx - 0.35 * r, cy - 0.9 * r, cx + 0.05 * r, cy - 0.7 * r, _shade(skin, 1.12))

    brow = _shade(hair, 0.7) if look.hair_style != "bald" else _shade(skin, 0.45)
    ey = cy - 0.08 * r
    for side in (-1, 1):
        ex = cx + side * 0.33 * r
        pen.line(
            [(ex - 0.16 * r, ey - 0.2 * r), (ex + 0.16 * r, ey - 0.24 * r)]
            if side < 0
            else [(ex - 0.16 * r, ey - 0.24 * r), (ex + 0.16 * r, ey - 0.2 * r)],
            brow,
            0.07 * r,
        )
        if eyes_open:
            pen.ellipse(ex - 0.15 * r, ey - 0.09 * r, ex + 0.15 * r, ey + 0.09 * r, (250, 250, 248))
            pen.ellipse(ex - 0.085 * r, ey - 0.085 * r, ex + 0.085 * r, ey + 0.085 * r, look.eyes)
            pen.ellipse(
                ex - 0.042 * r, ey - 0.042 * r, ex + 0.042 * r, ey + 0.042 * r, (16, 14, 14)
            )
            pen.ellipse(ex + 0.01 * r, ey - 0.05 * r, ex + 0.04 * r, ey - 0.02 * r, (255, 255, 255))
        else:
            pen.arc(
                ex - 0.15 * r,
                ey - 0.1 * r,
                ex + 0.15 * r,
                ey + 0.06 * r,
                10,
                170,
                _shade(skin, 0.5),
                0.035 * r,
            )

    pen.ellipse(cx - 0.08 * r, cy + 0.1 * r, cx + 0.08 * r, cy + 0.3 * r, _shade(skin, 0.9))  # nose
    if look.beard:
        pen.chord(cx - 0.82 * r, cy - 0.35 * r, cx + 0.82 * r, cy + 1.06 * r, 0, 180, hair)
        pen.ellipse(cx - 0.3 * r, cy + 0.3 * r, cx + 0.3 * r, cy + 0.6 * r, skin)
    lips = _blend(skin, (170, 60, 70), 0.55)
    pen.arc(cx - 0.28 * r, cy + 0.26 * r, cx + 0.28 * r, cy + 0.56 * r, 25, 155, lips, 0.06 * r)
    if look.glasses:
        frame = (30, 28, 30)
        for side in (-1, 1):
            ex = cx + side * 0.33 * r
            pen.rounded(
                ex - 0.24 * r,
                ey - 0.17 * r,
                ex + 0.24 * r,
                ey + 0.15 * r,
                0.07 * r,
                None,
                frame,
                0.045 * r,
            )
        pen.line([(cx - 0.09 * r, ey - 0.04 * r), (cx + 0.09 * r, ey - 0.04 * r)], frame, 0.04 * r)
    layer = pen.done()
    blush = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    blush_pen = ImageDraw.Draw(blush)
    for side in (-1, 1):
        x, y = cx + side * 0.45 * r - left, cy + 0.22 * r - top
        blush_pen.ellipse(
            (x - 0.16 * r, y - 0.1 * r, x + 0.16 * r, y + 0.1 * r), fill=(230, 90, 100, 46)
        )
    blush = blush.filter(ImageFilter.GaussianBlur(radius=max(1.0, 0.05 * r)))
    face_alpha = layer.getchannel("A")
    blush.putalpha(
        Image.fromarray(np.minimum(np.asarray(blush.getchannel("A")), np.asarray(face_alpha)))
    )
    return Image.alpha_composite(layer, blush), (left, top)


# Backdrops ---------------------------------------------------------------------------------


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = np.array(top, dtype=np.float32) * (1 - t) + np.array(bottom, dtype=np.float32) * t
    return Image.fromarray(np.repeat(rows, w, axis=1).astype(np.uint8), "RGB")


def draw_backdrop(look: PresenterLook, width: int, height: int) -> Image.Image:
    """The setting behind the presenter, drawn at half size, blurred like a shallow focus."""
    w, h = max(2, width // 2), max(2, height // 2)
    seed, hue = look.seed, look.hue
    rng = np.random.default_rng(int.from_bytes(seed[:8], "big"))
    kind = look.backdrop
    if kind == "office":
        image = _gradient((w, h), _hsv(hue, 0.10, 0.90), _hsv(hue, 0.12, 0.74))
        d = ImageDraw.Draw(image)
        wx0, wy0, wx1, wy1 = 0.05 * w, 0.1 * h, 0.42 * w, 0.62 * h
        d.rectangle((wx0, wy0, wx1, wy1), fill=(245, 245, 245))
        for i in range(2):
            for j in range(3):
                px0 = wx0 + 0.02 * w + i * (wx1 - wx0 - 0.02 * w) / 2
                py0 = wy0 + 0.015 * h + j * (wy1 - wy0 - 0.015 * h) / 3
                d.rectangle(
                    (px0, py0, px0 + (wx1 - wx0) / 2 - 0.03 * w, py0 + (wy1 - wy0) / 3 - 0.02 * h),
                    fill=(166, 206, 236),
                )
        sx0 = 0.66 * w
        d.rectangle((sx0, 0.18 * h, 0.97 * w, 0.72 * h), fill=(112, 78, 50))
        for shelf in range(3):
            y1 = 0.18 * h + (shelf + 1) * 0.18 * h
            x = sx0 + 0.015 * w
            while x < 0.95 * w:
                bw = (0.012 + rng.random() * 0.02) * w
                d.rectangle(
                    (x, y1 - (0.09 + rng.random() * 0.06) * h, x + bw, y1 - 0.01 * h),
                    fill=_hsv(rng.random(), 0.5, 0.75),
                )
                x += bw + 0.004 * w
            d.rectangle((sx0, y1 - 0.01 * h, 0.97 * w, y1), fill=(80, 54, 34))
        d.rectangle((0, 0.78 * h, w, h), fill=_hsv(hue, 0.15, 0.55))
        d.ellipse((0.08 * w, 0.6 * h, 0.22 * w, 0.74 * h), fill=(60, 130, 70))
        d.rectangle((0.12 * w, 0.7 * h, 0.18 * w, 0.8 * h), fill=(150, 90, 60))
    elif kind == "city":
        image = _gradient((w, h), (28, 36, 84), (236, 140, 90))
        d = ImageDraw.Draw(image)
        x = 0.0
        while x < w:
            bw = (0.06 + rng.random() * 0.1) * w
            top = (0.25 + rng.random() * 0.35) * h
            shade = 30 + int(rng.random() * 30)
            d.rectangle((x, top, x + bw, h), fill=(shade, shade + 6, shade + 24))
            for wy in np.arange(top + 0.02 * h, h, 0.035 * h):
                for wx in np.arange(x + 0.01 * w, x + bw - 0.015 * w, 0.025 * w):
                    if rng.random() < 0.45:
                        d.rectangle((wx, wy, wx + 0.01 * w, wy + 0.012 * h), fill=(250, 214, 120))
            x += bw + 0.005 * w
    elif kind == "beach":
        image = _gradient((w, h), (110, 180, 240), (200, 230, 250))
        d = ImageDraw.Draw(image)
        d.ellipse((0.7 * w, 0.08 * h, 0.86 * w, 0.08 * h + 0.16 * w), fill=(255, 236, 160))
        d.rectangle((0, 0.55 * h, w, 0.72 * h), fill=(40, 120, 180))
        for k in range(5):
            y = 0.58 * h + k * 0.028 * h
            d.line(
                (0.05 * w + k * 0.1 * w, y, 0.3 * w + k * 0.1 * w, y),
                fill=(200, 230, 245),
                width=max(1, h // 300),
            )
        d.rectangle((0, 0.72 * h, w, h), fill=(236, 210, 160))
    elif kind == "nature":
        image = _gradient((w, h), (170, 214, 240), (120, 170, 110))
        d = ImageDraw.Draw(image)
        for layer_index, shade in enumerate((0.45, 0.6, 0.75)):
            for _ in range(7):
                x = rng.random() * w
                y = (0.3 + 0.15 * layer_index + rng.random() * 0.15) * h
                radius = (0.1 + rng.random() * 0.08) * w
                d.rectangle((x - 0.015 * w, y, x + 0.015 * w, h), fill=(90, 64, 40))
                d.ellipse(
                    (x - radius, y - radius, x + radius, y + radius),
                    fill=_hsv(0.3 + rng.random() * 0.06, 0.6, shade),
                )
        d.rectangle((0, 0.85 * h, w, h), fill=(80, 140, 70))
    elif kind == "kitchen":
        image = _gradient((w, h), (238, 214, 180), (200, 160, 120))
        d = ImageDraw.Draw(image)
        for shelf_y in (0.3, 0.5):
            d.rectangle(
                (0.05 * w, shelf_y * h, 0.95 * w, shelf_y * h + 0.012 * h), fill=(120, 80, 50)
            )
            x = 0.07 * w
            while x < 0.92 * w:
                jw = (0.03 + rng.random() * 0.03) * w
                jh = (0.06 + rng.random() * 0.06) * h
                d.rounded_rectangle(
                    (x, shelf_y * h - jh, x + jw, shelf_y * h),
                    radius=jw / 4,
                    fill=_hsv(rng.random(), 0.35, 0.85),
                )
                x += jw + 0.02 * w
        for lamp_x in (0.2, 0.8):
            d.line((lamp_x * w, 0, lamp_x * w, 0.1 * h), fill=(60, 50, 40), width=max(1, w // 200))
            d.ellipse(
                (lamp_x * w - 0.05 * w, 0.09 * h, lamp_x * w + 0.05 * w, 0.09 * h + 0.1 * w),
                fill=(255, 228, 160),
            )
        d.rectangle((0, 0.8 * h, w, h), fill=(150, 110, 80))
    elif kind == "space":
        image = _gradient((w, h), (6, 8, 24), (24, 16, 48))
        d = ImageDraw.Draw(image)
        for _ in range(int(0.0015 * w * h)):
            x, y = rng.random() * w, rng.random() * h
            s = 0.5 + rng.random() * 1.2
            d.ellipse((x - s, y - s, x + s, y + s), fill=(240, 240, 255))
        d.ellipse(
            (0.7 * w, 0.1 * h, 0.7 * w + 0.22 * w, 0.1 * h + 0.22 * w), fill=_hsv(hue, 0.5, 0.8)
        )
    elif kind == "home":
        image = _gradient((w, h), _hsv(hue, 0.18, 0.92), _hsv(hue, 0.22, 0.78))
        d = ImageDraw.Draw(image)
        d.rectangle(
            (0.1 * w, 0.15 * h, 0.34 * w, 0.38 * h),
            fill=(250, 250, 246),
            outline=(110, 80, 60),
            width=max(2, w // 120),
        )
        d.polygon(
            [(0.13 * w, 0.35 * h), (0.22 * w, 0.22 * h), (0.31 * w, 0.35 * h)],
            fill=_hsv(hue + 0.5, 0.4, 0.7),
        )
        d.rectangle((0.8 * w, 0.35 * h, 0.83 * w, 0.72 * h), fill=(90, 80, 70))
        d.polygon(
            [
                (0.74 * w, 0.35 * h),
                (0.89 * w, 0.35 * h),
                (0.86 * w, 0.25 * h),
                (0.77 * w, 0.25 * h),
            ],
            fill=(250, 230, 180),
        )
        d.rounded_rectangle(
            (0.02 * w, 0.7 * h, 0.98 * w, 1.05 * h),
            radius=0.05 * w,
            fill=_hsv(hue + 0.45, 0.35, 0.55),
        )
    elif kind == "classroom":
        image = _gradient((w, h), (236, 230, 214), (214, 204, 186))
        d = ImageDraw.Draw(image)
        d.rectangle(
            (0.06 * w, 0.12 * h, 0.94 * w, 0.58 * h),
            fill=(46, 84, 62),
            outline=(140, 100, 60),
            width=max(2, w // 90),
        )
        for k in range(6):
            y = 0.18 * h + k * 0.06 * h
            x0 = 0.1 * w + rng.random() * 0.1 * w
            d.line(
                (x0, y, x0 + (0.2 + rng.random() * 0.5) * w, y + rng.random() * 0.01 * h),
                fill=(220, 230, 220),
                width=max(1, w // 300),
            )
    elif kind == "gym":
        image = _gradient((w, h), (60, 64, 72), (34, 36, 42))
        d = ImageDraw.Draw(image)
        for k in range(5):
            d.rectangle(
                (k * 0.22 * w, 0.1 * h, k * 0.22 * w + 0.12 * w, 0.5 * h), fill=(200, 210, 220)
            )
        d.rectangle((0, 0.62 * h, w, 0.66 * h), fill=_hsv(hue, 0.7, 0.8))
        d.rectangle((0, 0.8 * h, w, h), fill=(50, 44, 40))
    elif kind == "studio":
        image = _gradient((w, h), _hsv(hue, 0.5, 0.22), _hsv(hue, 0.6, 0.08))
        glow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(glow).ellipse((0.15 * w, 0.05 * h, 0.85 * w, 0.75 * h), fill=150)
        glow = glow.filter(ImageFilter.GaussianBlur(radius=0.12 * min(w, h)))
        image = Image.composite(Image.new("RGB", (w, h), _hsv(hue, 0.35, 0.75)), image, glow)
    else:
        image = _gradient((w, h), _hsv(hue, 0.45, 0.85), _hsv(hue + 0.08, 0.65, 0.45))
        d = ImageDraw.Draw(image)
        for i in range(4):
            x, y = seed[9 + i] / 255 * w, seed[13 + i] / 255 * h
            radius = (0.2 + seed[17 + i] / 255 * 0.25) * min(w, h)
            d.ellipse(
                (x - radius, y - radius, x + radius, y + radius),
                fill=_hsv(hue + 0.04 * i, 0.35, 0.92 if i % 2 == 0 else 0.55),
            )
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, 0.012 * min(w, h))))
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    # A soft vignette and a shadow behind the figure, so the presenter stands out.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    fig = Figure(width, height)
    d2 = ((xs - fig.cx) / (0.75 * width)) ** 2 + ((ys - fig.head_cy) / (0.9 * height)) ** 2
    shade = 1.0 - 0.35 * np.clip(d2, 0.0, 1.0)
    halo = np.exp(
        -(((xs - fig.cx) / (2.6 * fig.r)) ** 2 + ((ys - fig.shoulders_y) / (2.4 * fig.r)) ** 2)
    )
    shade *= 1.0 - 0.18 * halo
    pixels = np.asarray(image, dtype=np.float32) * shade[:, :, None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


# Motion ------------------------------------------------------------------------------------


def blink_frames(look: PresenterLook, total_frames: int, fps: int) -> set[int]:
    """Frames with the eyes closed: a short blink every 2.2-4.6 s, irregularly."""
    closed: set[int] = set()
    length = max(3, round(0.14 * fps))
    t = 0.6 + look.seed[10] / 255 * 1.2
    k = 0
    while t * fps < total_frames:
        start = round(t * fps)
        closed.update(range(start, min(total_frames, start + length)))
        k += 1
        t += 2.2 + look.seed[(11 + k) % 32] / 255 * 2.4
    return closed


def breathing_offset(look: PresenterLook, fig: Figure, seconds: float) -> int:
    """How far (pixels, upwards negative) the figure has risen with its breath."""
    period = 3.6 + look.seed[24] / 255 * 1.4
    return -round(fig.breath * (1 - math.cos(2 * math.pi * seconds / period)) / 2)


def head_sway(look: PresenterLook, fig: Figure, seconds: float) -> tuple[int, int]:
    phase = look.seed[25] / 255 * math.tau
    dx = round(0.004 * fig.width * math.sin(2 * math.pi * seconds / 5.3 + phase))
    dy = round(0.0025 * fig.height * math.sin(2 * math.pi * seconds / 6.7 + phase))
    return dx, dy


# Rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresenterSpec:
    """A presenter video to render; validated on construction."""

    prompt: str
    duration: int
    width: int
    height: int
    fps: int = 30

    def __post_init__(self) -> None:
        if (
            isinstance(self.duration, bool)
            or not isinstance(self.duration, int)
            or not 1 <= self.duration <= MAX_DURATION
        ):
            raise ValueError(f"duration must be a whole number of seconds in 1..{MAX_DURATION}")
        if (self.width, self.height) not in SUPPORTED_SIZES:
            raise ValueError(f"unsupported size {self.width}x{self.height}")
        if not 1 <= self.fps <= 60:
            raise ValueError("fps must be in 1..60")


@dataclass(frozen=True)
class PresenterReport:
    path: Path
    duration: float
    width: int
    height: int
    look: PresenterLook
    seconds_spent: dict[str, float] = field(default_factory=dict)


class PresenterComposer:
    """The prepared layers, and every frame of the video in order."""

    def __init__(self, spec: PresenterSpec) -> None:
        self.spec = spec
        self.look = presenter_look(spec.prompt)
        self.figure = Figure(spec.width, spec.height)
        backdrop = draw_backdrop(self.look, spec.width, spec.height)
        self._base = [plane.copy() for plane in planes(rgb_to_yuv420(np.asarray(backdrop)))]
        body, self._body_at = draw_body(self.look, self.figure)
        self._body = Overlay.from_rgba(body)
        head_open, self._head_at = draw_head(self.look, self.figure, eyes_open=True)
        head_closed, _ = draw_head(self.look, self.figure, eyes_open=False)
        self._head_open = Overlay.from_rgba(head_open)
        self._head_closed = Overlay.from_rgba(head_closed)
        self.total_frames = spec.duration * spec.fps
        self._closed = blink_frames(self.look, self.total_frames, spec.fps)

    def frame(self, index: int) -> av.VideoFrame:
        seconds = index / self.spec.fps
        frame = av.VideoFrame(self.spec.width, self.spec.height, YUV_FORMAT)
        for target, source in zip(planes(frame), self._base):
            target[...] = source
        rise = breathing_offset(self.look, self.figure, seconds)
        self._body.blend_into(frame, (self._body_at[0], self._body_at[1] + rise))
        dx, dy = head_sway(self.look, self.figure, seconds)
        head = self._head_closed if index in self._closed else self._head_open
        head.blend_into(frame, (self._head_at[0] + dx, self._head_at[1] + rise + dy))
        frame.pts = index
        return frame


def render_presenter(
    spec: PresenterSpec, out_path: Path, *, progress: Callable[[float], None] | None = None
) -> PresenterReport:
    """Render the presenter video to an MP4 at out_path (never leaves half a file behind)."""
    report_progress = progress or (lambda fraction: None)
    report_progress(0.0)
    out_path = Path(out_path)
    started = time.perf_counter()
    composer = PresenterComposer(spec)
    prepared = time.perf_counter()
    writer = Mp4Writer(out_path, spec.width, spec.height, spec.fps)
    try:
        track = silent_track(spec.duration)
        writer.set_audio(track.samples, track.sample_rate)
        for index in range(composer.total_frames):
            writer.write_frame(composer.frame(index))
            if index % PROGRESS_EVERY == 0:
                report_progress(0.97 * (index + 1) / composer.total_frames)
        writer.close()
    except BaseException:
        writer.abort()
        out_path.unlink(missing_ok=True)
        raise
    report_progress(1.0)
    return PresenterReport(
        path=out_path,
        duration=composer.total_frames / spec.fps,
        width=spec.width,
        height=spec.height,
        look=composer.look,
        seconds_spent={
            "prepare": prepared - started,
            "frames+encode": time.perf_counter() - prepared,
        },
    )
