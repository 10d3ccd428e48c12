"""The hook's kinetic text: large words popping in one after another.

Words are laid out once at their final place (wrapped in the safe zone, centred); each becomes a
:class:`PopSprite`. A line with right-to-left text, or without spaces (Chinese, Japanese), pops
in as a whole, so the bidi order and the script's own spacing stay as the layout set them.
"""

from __future__ import annotations

import math

from ..captions import fit_caption
from ..colour import RGB
from ..text_layout import layout_line, line_width
from .sprites import PopSprite, text_image

#: Frames between two words appearing.
WORD_STAGGER = 4


def kinetic_words(
    text: str,
    box: tuple[int, int, int, int],
    size: int,
    fill: RGB,
    stroke: RGB,
    *,
    max_lines: int = 4,
) -> list[PopSprite]:
    """Sprites for text, filling box's width, centred at 45 % of its height."""
    x0, y0, x1, y1 = box
    size, lines = fit_caption(text, size, x1 - x0, max_lines)
    if not lines:
        return []
    line_height = math.ceil(size * 1.18)
    top = y0 + (y1 - y0) * 0.45 - line_height * len(lines) / 2
    space = line_width("a a", size) - line_width("aa", size)
    sprites: list[PopSprite] = []
    for row, line in enumerate(lines):
        centre_y = top + row * line_height + line_height / 2
        whole = any(run.rtl for run in layout_line(line, size).runs) or " " not in line
        words = [line] if whole else line.split(" ")
        widths = [line_width(word, size) for word in words]
        x = (x0 + x1) / 2 - (sum(widths) + space * (len(words) - 1)) / 2
        for word, width in zip(words, widths, strict=True):
            image = text_image([word], size, fill, stroke=stroke)
            sprites.append(PopSprite(image, (x + width / 2, centre_y), len(sprites) * WORD_STAGGER))
            x += width + space
    return sprites
