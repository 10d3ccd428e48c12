"""Proof: the prompt's own number counted up from zero, with stars for a rating out of five.

Every character the count passes through is drawn once as a sprite and set at the face's own
advance (digits all at the widest digit's, so the number does not wobble while it counts; a
sprite's outline margin is not spacing: "4.8", never "4 . 8"); a frame blends the sprites of
the current value.
"""

from __future__ import annotations

import math

import av
import numpy as np
from PIL import Image, ImageDraw

from ..colour import RGB
from ..roles import Figure
from ..text_layout import line_width
from ..yuv import Overlay
from .sprites import rgba, text_image

STAR_GOLD: RGB = (255, 196, 0)
STAR_EMPTY: RGB = (255, 255, 255)


def _ease_out(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return 1 - (1 - t) ** 3


class CountUp:
    """The figure counted from 0 to its value over count_frames, centred at centre."""

    def __init__(
        self,
        figure: Figure,
        size: int,
        fill: RGB,
        stroke: RGB,
        centre: tuple[float, float],
        count_frames: int,
    ) -> None:
        self.figure = figure
        self.count_frames = max(1, count_frames)
        self.centre = centre
        alphabet = set("0123456789") | set(figure.format(figure.value))
        images = {ch: text_image([ch], size, fill, stroke=stroke) for ch in alphabet}
        digit_width = max(line_width(d, size) for d in "0123456789")
        self.advance = {
            ch: (digit_width if ch.isdigit() else line_width(ch, size)) for ch in images
        }
        self.glyphs = {ch: Overlay.from_rgba(image) for ch, image in images.items()}
        self.height = max(image.height for image in images.values())
        final = self.text(self.count_frames)
        width = sum(self.advance[ch] for ch in final)
        self.box = (
            round(centre[0] - width / 2),
            round(centre[1] - self.height / 2),
            round(centre[0] + width / 2),
            round(centre[1] + self.height / 2),
        )

    def value(self, tick: int) -> float:
        return self.figure.value * _ease_out(tick / self.count_frames)

    def text(self, tick: int) -> str:
        if tick >= self.count_frames:
            return self.figure.format(self.figure.value)  # lands exactly on the prompt's number
        return self.figure.format(self.value(tick))

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        text = self.text(tick)
        x = self.centre[0] - sum(self.advance[ch] for ch in text) / 2
        y = round(self.centre[1] - self.height / 2)
        for ch in text:
            glyph = self.glyphs[ch]
            glyph.blend_into(frame, (round(x + (self.advance[ch] - glyph.size[0]) / 2), y))
            x += self.advance[ch]


def star_image(side: int, colour: RGB, *, outline: bool = False) -> Image.Image:
    """A five-pointed star filling a side x side square."""
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    c, outer, inner = side / 2, side / 2 * 0.96, side / 2 * 0.4
    points = [
        (
            c + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
            c * 1.06 - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]
    draw = ImageDraw.Draw(layer)
    if outline:
        draw.polygon(points, outline=rgba(colour, 150), width=max(2, side // 18))
    else:
        draw.polygon(points, fill=rgba(colour))
    return layer


def fill_widths(star: Image.Image, steps: int) -> list[int]:
    """For k = 1..steps, the width from the left that covers k/steps of the star's area.

    A star's area sits in its middle, so filling by width would hide a fraction: 0.8 of the
    width is ~0.95 of the star, and 4.8 would look like five full stars.
    """
    alpha = np.asarray(star.getchannel("A"), dtype=np.float64)
    covered = np.cumsum(alpha.sum(axis=0))
    covered /= covered[-1]
    return [max(2, int(np.searchsorted(covered, k / steps)) + 1) for k in range(1, steps + 1)]


class StarRow:
    """Five stars filling up with the count (a rating of 4.8 fills four and 80 % of the fifth's
    area)."""

    STEPS = 10  # partial fills of one star

    def __init__(self, counter: CountUp, side: int, centre: tuple[float, float]) -> None:
        self.counter = counter
        gap = side // 5
        width = 5 * side + 4 * gap
        x0 = round(centre[0] - width / 2)
        y0 = round(centre[1] - side / 2)
        self.positions = [(x0 + i * (side + gap), y0) for i in range(5)]
        empty = star_image(side, STAR_EMPTY, outline=True)
        full = star_image(side, STAR_GOLD)
        self.empty = [Overlay.from_rgba(empty, p) for p in self.positions]
        self.partial = [
            [
                Overlay.from_rgba(full.crop((0, 0, width, side)), p)
                for width in fill_widths(full, self.STEPS)
            ]
            for p in self.positions
        ]
        self.box = (x0, y0, x0 + width, y0 + side)

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        value = (
            self.counter.value(tick)
            if tick < self.counter.count_frames
            else self.counter.figure.value
        )
        for i in range(5):
            self.empty[i].blend_into(frame)
            filled = min(1.0, max(0.0, value - i))
            steps = round(filled * self.STEPS)
            if steps:
                self.partial[i][steps - 1].blend_into(frame)
