"""Lines of text drawn centred under each other on one RGBA layer, optionally on a rounded box.

The one place text blocks are drawn: captions (:mod:`.captions`) put them on a dark box, scene
sprites (:mod:`.scenes.sprites`) draw them bare. The block also says where each word landed, so
a caption can light up the word being said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .text_layout import draw_line, layout_line, line_width

Box = tuple[int, int, int, int]
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextBlock:
    """The drawn block and, per word of its lines in order, the word's box in the block (None
    where a word is not placed on its own: right-to-left or unspaced lines are drawn whole)."""

    image: Image.Image
    word_boxes: tuple[Box | None, ...]
    size: int


def draw_text_block(
    lines: list[str],
    size: int,
    fill: RGBA,
    *,
    stroke_width: int = 0,
    stroke_fill: RGBA | None = None,
    spacing: float = 1.18,
    pad: tuple[int, int] = (0, 0),
    box_fill: RGBA | None = None,
    box_radius: int = 0,
    max_width: int | None = None,
) -> TextBlock:
    """The lines at `size` px, each centred, `pad` (x, y) px around them inside the layer."""
    layouts = [layout_line(line, size) for line in lines]
    line_height = math.ceil(size * spacing)
    pad_x, pad_y = pad
    width = max(math.ceil(layout.width) for layout in layouts) + 2 * stroke_width + 2 * pad_x
    width = min(width, max_width) if max_width is not None else width
    height = line_height * len(lines) + 2 * pad_y
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if box_fill is not None:
        ImageDraw.Draw(layer).rounded_rectangle(
            (0, 0, width - 1, height - 1), radius=box_radius, fill=box_fill
        )
    boxes: list[Box | None] = []
    for row, (line, layout) in enumerate(zip(lines, layouts, strict=True)):
        left = (width - layout.width) / 2
        centre_y = pad_y + row * line_height + line_height / 2
        draw_line(
            layer,
            layout,
            left,
            centre_y,
            fill=fill,
            stroke_width=stroke_width,
            stroke_fill=stroke_fill or fill,
        )
        top, bottom = round(centre_y - line_height / 2), round(centre_y + line_height / 2)
        boxes += _word_boxes(line, size, left, top, bottom, whole=any(r.rtl for r in layout.runs))
    return TextBlock(layer, tuple(boxes), size)


def _word_boxes(
    line: str, size: int, left: float, top: int, bottom: int, *, whole: bool
) -> list[Box | None]:
    """Where each word of a left-to-right line sits (its advance from the line's start)."""
    words = line.split()
    if whole:
        return [None] * len(words)
    boxes: list[Box | None] = []
    for k, word in enumerate(words):
        start = left + (line_width(" ".join(words[:k]) + " ", size) if k else 0.0)
        boxes.append((math.floor(start), top, math.ceil(start + line_width(word, size)), bottom))
    return boxes
