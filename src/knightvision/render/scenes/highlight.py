"""The word being said, lit up in its caption: a pill in the brand colour behind it.

Each word's pill (with the word redrawn on it in the colour that reads on the brand) is drawn
and converted once per scene; a frame blends at most one of them, chosen by the voice's word
timing (:mod:`..word_timing`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw

from ..captions import Caption
from ..colour import RGB
from ..palette import text_colour_on
from ..text_block import Box, draw_text_block
from ..word_timing import SpokenWord
from ..yuv import Overlay
from .sprites import rgba

#: A word stays lit this long after it ends (s), so short gaps between words do not flicker.
HOLD_SECONDS = 0.25


@dataclass(frozen=True)
class Cue:
    """When a word of the scene is heard, in frames from the scene's start."""

    index: int  # the word's place in the scene's text
    start: int
    end: int


def cues_for(words: tuple[SpokenWord, ...], scene_start: float, fps: int) -> list[Cue]:
    """The scene's spoken words as frame cues (a frame shows [t, t + 1/fps): a word lights up in
    the frame its sound begins in)."""
    return [
        Cue(
            w.index,
            math.floor((w.start - scene_start) * fps),
            math.ceil((w.end - scene_start) * fps),
        )
        for w in sorted(words, key=lambda w: w.start)
    ]


def current_cue(cues: list[Cue], tick: int, hold: int) -> Cue | None:
    """The word heard at this frame: the last one begun, while it lasts (plus `hold` frames)."""
    at = bisect.bisect_right([cue.start for cue in cues], tick) - 1
    if at < 0 or tick > cues[at].end + hold:
        return None
    return cues[at]


class WordHighlight:
    """Lights up the caption's word being said."""

    def __init__(
        self, caption: Caption, words: list[str], cues: list[Cue], brand: RGB, fps: int
    ) -> None:
        self.cues = [cue for cue in cues if _box(caption, cue.index) is not None]
        self.hold = round(HOLD_SECONDS * fps)
        ink = rgba(text_colour_on(brand))
        self.pills: dict[int, Overlay] = {}
        for cue in self.cues:
            box = _box(caption, cue.index)
            assert box is not None
            self.pills[cue.index] = _pill(words[cue.index], box, caption.size, brand, ink)
        x0, y0 = caption.position
        self.box = (x0, y0, x0 + caption.image.width, y0 + caption.image.height)

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        cue = current_cue(self.cues, tick, self.hold)
        if cue is not None:
            self.pills[cue.index].blend_into(frame)


def _box(caption: Caption, index: int) -> Box | None:
    return caption.word_boxes[index] if index < len(caption.word_boxes) else None


def _pill(word: str, box: Box, size: int, brand: RGB, ink: tuple[int, int, int, int]) -> Overlay:
    """The word on a rounded pill of the brand colour, placed over its box."""
    x0, y0, x1, y1 = box
    pad_x, half = round(size * 0.12), round(size * 0.6)
    centre_y = (y0 + y1) / 2
    width, height = x1 - x0 + 2 * pad_x, 2 * half
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(layer).rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=round(size * 0.22), fill=rgba(brand)
    )
    text = draw_text_block([word], size, ink).image
    layer.alpha_composite(
        text, (max(0, (width - text.width) // 2), max(0, (height - text.height) // 2))
    )
    return Overlay.from_rgba(layer, (x0 - pad_x, round(centre_y - half)))
