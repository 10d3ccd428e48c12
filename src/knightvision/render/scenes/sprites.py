"""Prerendered layers that move cheaply: text images, and sprites that pop in by scale steps.

A sprite's scaled versions are converted to YUV once per scene; a frame only blends the one its
animation step asks for, so motion costs a blend of a small box, never a redraw.
"""

from __future__ import annotations

import av
from PIL import Image, ImageDraw

from ..colour import RGB
from ..text_block import draw_text_block
from ..yuv import Overlay

#: Scale per frame while a sprite pops in: overshoot, then settle.
POP_SCALES = (0.4, 0.7, 0.95, 1.1, 1.06, 1.0)


def rgba(colour: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    return colour[0], colour[1], colour[2], alpha


def text_image(
    lines: list[str], size: int, fill: RGB, *, stroke: RGB | None = None, spacing: float = 1.18
) -> Image.Image:
    """Lines centred under each other on a transparent layer just big enough for them.

    The optional stroke is a thin outline that keeps glyph edges crisp on busy backgrounds.
    """
    stroke_width = max(1, round(size / 22)) if stroke is not None else 0
    return draw_text_block(
        lines,
        size,
        rgba(fill),
        stroke_width=stroke_width,
        stroke_fill=rgba(stroke or fill),
        spacing=spacing,
        pad=(2, stroke_width),
    ).image


def rounded_box(size: tuple[int, int], fill: RGB, radius: int) -> Image.Image:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rounded_rectangle(
        (0, 0, size[0] - 1, size[1] - 1), radius=radius, fill=rgba(fill)
    )
    return layer


def scaled_overlays(
    image: Image.Image, centre: tuple[float, float], scales: tuple[float, ...]
) -> list[Overlay]:
    """The image at each scale, converted once, each centred on the same point."""
    overlays = []
    for scale in scales:
        w, h = max(2, round(image.width * scale)), max(2, round(image.height * scale))
        scaled = image if (w, h) == image.size else image.resize((w, h), Image.Resampling.BILINEAR)
        overlays.append(
            Overlay.from_rgba(scaled, (round(centre[0] - w / 2), round(centre[1] - h / 2)))
        )
    return overlays


class PopSprite:
    """An image that pops in at a frame of its scene (scale steps), then stays."""

    def __init__(
        self,
        image: Image.Image,
        centre: tuple[float, float],
        start_tick: int,
        scales: tuple[float, ...] = POP_SCALES,
    ) -> None:
        self.start_tick = start_tick
        self.image = image
        self.steps = scaled_overlays(image, centre, scales)
        self.box = (
            round(centre[0] - image.width / 2),
            round(centre[1] - image.height / 2),
            round(centre[0] + image.width / 2),
            round(centre[1] + image.height / 2),
        )

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        step = tick - self.start_tick
        if step >= 0:
            self.steps[min(step, len(self.steps) - 1)].blend_into(frame)


class Pulse:
    """A sprite that pops in, then breathes gently (a few precomputed scales, in a loop)."""

    def __init__(self, image: Image.Image, centre: tuple[float, float], start_tick: int) -> None:
        self.pop = PopSprite(image, centre, start_tick)
        self.breath = scaled_overlays(image, centre, (1.0, 1.02, 1.04, 1.05, 1.04, 1.02))
        self.box = self.pop.box

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        step = tick - self.pop.start_tick - len(self.pop.steps)
        if step < 0:
            self.pop.draw(frame, tick)
        else:
            self.breath[(step // 3) % len(self.breath)].blend_into(frame)
