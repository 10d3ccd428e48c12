"""Caption blocks: the largest size at which the text fits, on a box in the safe area.

Faces, wrapping and drawing in every script are :mod:`.text_layout`'s; a character no bundled
face has is drawn as a box and reported (:func:`.text_layout.undrawable_characters`).

Captions are drawn once per scene into an RGBA layer (never per frame), so the
cost here does not scale with the video length.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from .fonts import PRIMARY, Font, face_font
from .text_layout import draw_line, layout_line, truncate_line, wrap_text

ELLIPSIS = "…"

TEXT_FILL = (255, 255, 255, 255)
STROKE_FILL = (0, 0, 0, 255)
BOX_FILL = (8, 8, 16, 175)


def load_font(size: int) -> Font:
    """The bundled bold Latin/Greek/Cyrillic face at `size` px (cached)."""
    return face_font(PRIMARY, size)


def fit_caption(text: str, base_size: int, max_width: int, max_lines: int) -> tuple[int, list[str]]:
    """Largest size (down to half of base_size) at which text fits; else truncate."""
    min_size = max(12, base_size // 2)
    size = base_size
    while True:
        lines = wrap_text(text, size, max_width)
        if len(lines) <= max_lines:
            return size, lines
        if size <= min_size:
            kept = lines[:max_lines]
            kept[-1] = truncate_line(kept[-1], size, max_width, ELLIPSIS)
            return size, kept
        size = max(min_size, int(size * 0.88))


def render_caption(
    text: str, width: int, height: int
) -> tuple[Image.Image, tuple[int, int]] | None:
    """Draw the caption block (box + stroked text) for a width x height frame.

    Returns the RGBA layer and its top-left position, or None when there is
    nothing drawable. Sizes scale with the short side; the block sits in the
    lower part of the frame inside safe margins (platform UI covers the
    bottom edge of vertical videos, hence the larger bottom margin there).
    """
    short = min(width, height)
    base_size = max(16, round(short * 0.075))
    margin_x = round(width * 0.08)
    pad = round(base_size * 0.45)
    max_width = width - 2 * margin_x - 2 * pad
    portrait = height > width
    max_lines = 5 if portrait else 3
    size, lines = fit_caption(text, base_size, max_width, max_lines)
    if not lines:
        return None
    layouts = [layout_line(line, size) for line in lines]
    stroke = max(2, round(size / 14))
    line_height = math.ceil(size * 1.22)
    text_width = max(math.ceil(layout.width) for layout in layouts) + 2 * stroke
    box_w = min(width - 2 * margin_x, text_width + 2 * pad)
    box_h = line_height * len(lines) + 2 * pad
    layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=BOX_FILL)
    for row, layout in enumerate(layouts):
        draw_line(
            layer,
            layout,
            (box_w - layout.width) / 2,
            pad + row * line_height + line_height / 2,
            fill=TEXT_FILL,
            stroke_width=stroke,
            stroke_fill=STROKE_FILL,
        )
    bottom_margin = round(height * (0.16 if portrait else 0.08))
    x = (width - box_w) // 2
    y = max(0, height - bottom_margin - box_h)
    return layer, (x, y)
