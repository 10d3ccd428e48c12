"""The hook's kinetic text: large words popping in one after another, then a slow push-in.

Words are laid out once at their final place (wrapped in the safe zone, centred); each becomes a
:class:`PopSprite`. A line with right-to-left text, or without spaces (Chinese, Japanese), pops
in as a whole, so the bidi order and the script's own spacing stay as the layout set them.
"""

from __future__ import annotations

import math

import av
from PIL import Image

from ..captions import fit_caption
from ..colour import RGB
from ..text_layout import layout_line, line_width
from ..yuv import Overlay
from .sprites import PopSprite, text_image

#: Frames between two words appearing.
WORD_STAGGER = 4
#: The settled text grows by this much until the scene ends: the hook never freezes.
PUSH_IN = 0.06


def kinetic_words(
    text: str,
    box: tuple[int, int, int, int],
    size: int,
    fill: RGB,
    stroke: RGB,
    *,
    max_lines: int = 4,
    centre: float = 0.45,
) -> list[PopSprite]:
    """Sprites for text, filling box's width, centred at `centre` of its height."""
    x0, y0, x1, y1 = box
    inset = round((x1 - x0) * PUSH_IN / 2)  # room for the push-in
    x0, x1 = x0 + inset, x1 - inset
    size, lines = fit_caption(text, size, x1 - x0, max_lines)
    if not lines:
        return []
    line_height = math.ceil(size * 1.18)
    top = y0 + (y1 - y0) * centre - line_height * len(lines) / 2
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


class KineticText:
    """Words popping in; once all are in, the block pushes in (scales up) until the scene ends.

    The push-in scales one prerendered image of the settled words per frame: a few
    milliseconds, and only in the hook.
    """

    def __init__(self, words: list[PopSprite], scene_frames: int) -> None:
        self.words = words
        x0 = min(w.box[0] for w in words)
        y0 = min(w.box[1] for w in words)
        x1 = max(w.box[2] for w in words)
        y1 = max(w.box[3] for w in words)
        self.block = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
        for word in words:
            self.block.alpha_composite(word.image, (word.box[0] - x0, word.box[1] - y0))
        self.centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        self.settle = max(w.start_tick + len(w.steps) for w in words)
        self.push_frames = max(1, scene_frames - self.settle)
        self._sizes: dict[tuple[int, int], Overlay] = {}
        grow = (1 + PUSH_IN) / 2
        w, h = self.block.size
        self.box = (
            math.floor(self.centre[0] - w * grow),
            math.floor(self.centre[1] - h * grow),
            math.ceil(self.centre[0] + w * grow),
            math.ceil(self.centre[1] + h * grow),
        )

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        if tick < self.settle:
            for word in self.words:
                word.draw(frame, tick)
            return
        scale = 1 + PUSH_IN * min(1.0, (tick - self.settle) / self.push_frames)
        w, h = self.block.size
        # Sizes snap to whole pixels, so a slow push-in converts each size once and the frames
        # in between reuse it (the background still moves under them).
        size = (round(w * scale), round(h * scale))
        overlay = self._sizes.get(size)
        if overlay is None:
            image = self.block.resize(size, Image.Resampling.BILINEAR)
            position = (round(self.centre[0] - size[0] / 2), round(self.centre[1] - size[1] / 2))
            overlay = self._sizes[size] = Overlay.from_rgba(image, position)
        overlay.blend_into(frame)
