"""The offer's badge and the end card's call-to-action button, drawn once per scene."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFilter

from ..captions import fit_caption
from ..colour import RGB
from ..palette import MIN_CONTRAST, contrast_ratio, text_colour_on
from .sprites import rgba, rounded_box, text_image


def _checked_text_colour(background: RGB) -> RGB:
    """The text colour for a background, refusing one below the WCAG minimum."""
    colour = text_colour_on(background)
    if contrast_ratio(colour, background) < MIN_CONTRAST:  # cannot happen for white/ink; guarded
        raise ValueError(f"no readable text colour on {background}")
    return colour


def offer_badge_image(text: str, diameter: int, brand: RGB) -> Image.Image:
    """A round badge in the brand colour with a light ring, the offer's words in the middle."""
    ring = max(3, diameter // 28)
    layer = Image.new("RGBA", (diameter, diameter), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.ellipse((0, 0, diameter - 1, diameter - 1), fill=rgba((255, 255, 255)))
    draw.ellipse((ring, ring, diameter - 1 - ring, diameter - 1 - ring), fill=rgba(brand))
    inner = round(diameter * 0.7)
    size, lines = fit_caption(text, round(diameter * 0.34), inner, 2)
    words = text_image(lines, size, _checked_text_colour(brand))
    layer.alpha_composite(words, ((diameter - words.width) // 2, (diameter - words.height) // 2))
    return layer


def button_image(label: str, size: int, max_width: int, brand: RGB) -> Image.Image:
    """A pill-shaped button in the brand colour with its label, over a soft shadow."""
    size, lines = fit_caption(label, size, max_width - 2 * size, 1)
    words = text_image(lines, size, _checked_text_colour(brand))
    pad_x, pad_y = round(size * 1.1), round(size * 0.55)
    width = min(max_width, words.width + 2 * pad_x)
    height = words.height + 2 * pad_y
    shadow = max(4, size // 5)
    layer = Image.new("RGBA", (width + 2 * shadow, height + 3 * shadow), (0, 0, 0, 0))
    blur = rounded_box((width, height), (0, 0, 0), height // 2)
    blur.putalpha(blur.getchannel("A").point(lambda a: a * 90 // 255))
    layer.alpha_composite(blur, (shadow, 2 * shadow))
    layer = layer.filter(ImageFilter.GaussianBlur(shadow * 0.8))
    layer.alpha_composite(rounded_box((width, height), brand, height // 2), (shadow, shadow))
    layer.alpha_composite(
        words, (shadow + (width - words.width) // 2, shadow + (height - words.height) // 2)
    )
    return layer


def button_box(image: Image.Image, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """Where a button image centred at centre lands, in frame pixels."""
    return (
        math.floor(centre[0] - image.width / 2),
        math.floor(centre[1] - image.height / 2),
        math.ceil(centre[0] + image.width / 2),
        math.ceil(centre[1] + image.height / 2),
    )
