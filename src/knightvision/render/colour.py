"""Colour arithmetic shared by the storyboard frames and the presenter (8-bit RGB)."""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]


def hsv(h: float, s: float, v: float) -> RGB:
    """An RGB colour from hue (wrapping), saturation and value in 0..1."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def shade(colour: RGB, factor: float) -> RGB:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        r, g, b = (max(0, min(255, round(c * factor))) for c in colour)
        return r, g, b
    mix = min(1.0, factor - 1.0)
    r, g, b = (round(c + (255 - c) * mix) for c in colour)
    return r, g, b


def blend(a: RGB, b: RGB, t: float) -> RGB:
    """The colour t of the way from a to b."""
    red, green, blue = (round(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))
    return red, green, blue
