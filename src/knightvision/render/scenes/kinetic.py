"""The hook's kinetic text: large words popping in as the voice says them, then a slow push-in.

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
from .highlight import Cue
from .sprites import PopSprite, text_image

#: Frames between two words appearing when nothing is said (no voice, or a script it cannot read).
WORD_STAGGER = 4
#: A word starts popping this many frames before it is heard, so it is full size as it sounds.
POP_AHEAD = 2
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
    cues: list[Cue] | None = None,
) -> list[PopSprite]:
    """Sprites for text, filling box's width, centred at `centre` of its height; each pops in
    as its word is heard (cues), or one after another without them."""
    x0, y0, x1, y1 = box
    inset = round((x1 - x0) * PUSH_IN / 2)  # room for the push-in
    x0, x1 = x0 + inset, x1 - inset
    size, lines = fit_caption(text, size, x1 - x0, max_lines)
    if not lines:
        return []
    line_height = math.ceil(size * 1.18)
    top = y0 + (y1 - y0) * centre - line_height * len(lines) / 2
    space = line_width("a a", size) - line_width("aa", size)
    heard = {cue.index: max(0, cue.start - POP_AHEAD) for cue in cues or ()}
    if heard:  # the first word is there from the cut: no frame of the hook is without text
        heard[min(heard)] = 0
    sprites: list[PopSprite] = []
    index = 0  # the word's place in the text
    for row, line in enumerate(lines):
        centre_y = top + row * line_height + line_height / 2
        whole = any(run.rtl for run in layout_line(line, size).runs) or " " not in line
        words = [line] if whole else line.split(" ")
        widths = [line_width(word, size) for word in words]
        x = (x0 + x1) / 2 - (sum(widths) + space * (len(words) - 1)) / 2
        for word, width in zip(words, widths, strict=True):
            image = text_image([word], size, fill, stroke=stroke)
            if not heard:
                start = len(sprites) * WORD_STAGGER
            else:  # a word the voice did not get to pops in just after the one before
                start = heard.get(index, sprites[-1].start_tick + WORD_STAGGER if sprites else 0)
            sprites.append(PopSprite(image, (x + width / 2, centre_y), start))
            x += width + space
            index += len(word.split())
    return sprites


class KineticText:
    """Words popping in while the whole block pushes in (scales up) from the cut to the scene's
    end: the hook never holds still, even while it waits for the voice's next word.

    The words already in are one prerendered image, scaled per frame; sizes snap to whole pixels,
    so a slow push-in converts each size once (and again when a word joins) and the frames in
    between reuse it. The image is kept premultiplied (Pillow scales RGBA that way, converting
    to and fro on every call). A word popping in is blended at its place in the grown block.
    """

    def __init__(self, words: list[PopSprite], scene_frames: int) -> None:
        self.words = words
        x0 = min(w.box[0] for w in words)
        y0 = min(w.box[1] for w in words)
        x1 = max(w.box[2] for w in words)
        y1 = max(w.box[3] for w in words)
        self.origin = (x0, y0)
        self.size = (x1 - x0, y1 - y0)
        self.centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        self.settle = max(w.start_tick + len(w.steps) for w in words)
        self.push_frames = max(1, scene_frames - 1)
        self._in: tuple[int, ...] = ()
        self._sizes: dict[tuple[int, int], Overlay] = {}
        self._block = Image.new("RGBa", self.size, (0, 0, 0, 0))
        grow = (1 + PUSH_IN) / 2
        w, h = self.size
        self.box = (
            math.floor(self.centre[0] - w * grow),
            math.floor(self.centre[1] - h * grow),
            math.ceil(self.centre[0] + w * grow),
            math.ceil(self.centre[1] + h * grow),
        )

    def _settled(self, words: tuple[int, ...]) -> None:
        """The block image now holds these words (the cache of sizes is for the old set)."""
        if words != self._in:
            self._in, self._sizes = words, {}
            block = Image.new("RGBA", self.size, (0, 0, 0, 0))
            for i in words:
                word = self.words[i]
                position = (word.box[0] - self.origin[0], word.box[1] - self.origin[1])
                block.alpha_composite(word.image, position)
            self._block = block.convert("RGBa")

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        scale = 1 + PUSH_IN * min(1.0, tick / self.push_frames)
        done = tuple(i for i, w in enumerate(self.words) if tick >= w.start_tick + len(w.steps))
        self._settled(done)
        if done:
            w, h = self.size
            size = (round(w * scale), round(h * scale))
            overlay = self._sizes.get(size)
            if overlay is None:
                image = self._block.resize(size, Image.Resampling.BILINEAR).convert("RGBA")
                position = (
                    round(self.centre[0] - size[0] / 2),
                    round(self.centre[1] - size[1] / 2),
                )
                overlay = self._sizes[size] = Overlay.from_rgba(image, position)
            overlay.blend_into(frame)
        cx, cy = self.centre
        for word in self.words:
            step = tick - word.start_tick
            if 0 <= step < len(word.steps):  # popping: at its place in the grown block
                pop = word.steps[step]
                wx, wy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
                pw, ph = pop.size
                at = (cx + (wx - cx) * scale - pw / 2, cy + (wy - cy) * scale - ph / 2)
                pop.blend_into(frame, (round(at[0]), round(at[1])))
