"""The presenter drawn live inside another video: it blinks, breathes, sways and speaks.

Everything is drawn once (body, head with eyes open and closed, a few mouth openings, all
pre-converted to YUV); per frame we only pick the layers and move them. The eyes are open except
on the frames of a blink, so no frame shows a presenter with closed eyes for longer than a blink.
"""

from __future__ import annotations

import av
from PIL import Image

from ..colour import blend, shade
from ..yuv import Overlay
from .body import draw_body
from .figure import Figure
from .head import draw_head
from .look import presenter_look
from .motion import blink_frames, breathing_offset, head_sway
from .pen import Pen

Box = tuple[int, int, int, int]
#: Mouth openings drawn ahead (the closed mouth is the head's own smile).
MOUTH_LEVELS = 3


def draw_mouth(
    fig: Figure, skin: tuple[int, int, int], level: float
) -> tuple[Image.Image, tuple[int, int]]:
    """An open mouth over the head's smile, ``level`` in (0, 1], in the head's frame."""
    r, cx, cy = fig.r, fig.cx, fig.head_cy
    half_w, half_h = 0.2 * r, (0.05 + 0.17 * level) * r
    my = cy + 0.44 * r
    left, top = round(cx - 0.34 * r), round(my - 0.3 * r)
    pen = Pen((round(0.68 * r), round(0.72 * r)), (left, top))
    lips = blend(skin, (170, 60, 70), 0.55)
    pen.ellipse(
        cx - half_w - 0.05 * r,
        my - half_h - 0.04 * r,
        cx + half_w + 0.05 * r,
        my + half_h + 0.05 * r,
        lips,
    )
    pen.ellipse(cx - half_w, my - half_h, cx + half_w, my + half_h, (70, 22, 30))
    pen.chord(
        cx - 0.7 * half_w,
        my - half_h,
        cx + 0.7 * half_w,
        my - half_h + 0.5 * half_h,
        180,
        360,
        shade((250, 250, 248), 0.95),
    )  # the upper teeth
    return pen.done(), (left, top)


class LivePresenter:
    """One presenter standing in a box of the frame, for a video of total_frames at fps."""

    def __init__(self, prompt: str, box: Box, total_frames: int, fps: int) -> None:
        self.look = presenter_look(prompt)
        self.box = box
        x0, y0, x1, y1 = box
        self.figure = Figure(x1 - x0, y1 - y0)
        self.fps = fps
        body, at = draw_body(self.look, self.figure)
        self._body, self._body_at = Overlay.from_rgba(body), (x0 + at[0], y0 + at[1])
        head_open, at = draw_head(self.look, self.figure, eyes_open=True)
        head_closed, _ = draw_head(self.look, self.figure, eyes_open=False)
        self._head_open, self._head_closed = (
            Overlay.from_rgba(head_open),
            Overlay.from_rgba(head_closed),
        )
        self._head_at = (x0 + at[0], y0 + at[1])
        self._mouths: list[tuple[Overlay, tuple[int, int]]] = []
        for step in range(1, MOUTH_LEVELS + 1):
            mouth, at = draw_mouth(self.figure, self.look.skin, step / MOUTH_LEVELS)
            self._mouths.append((Overlay.from_rgba(mouth), (x0 + at[0], y0 + at[1])))
        self._closed = blink_frames(self.look, total_frames, fps)

    @property
    def head_top(self) -> int:
        """The top of the hair, in frame pixels (text above it stays readable)."""
        return round(self.box[1] + self.figure.head_cy - 1.3 * self.figure.r)

    def eyes_open(self, index: int) -> bool:
        return index not in self._closed

    def _moved(self, index: int) -> tuple[int, int]:
        """How far the head has moved from its place at frame index (sway and breath)."""
        seconds = index / self.fps
        rise = breathing_offset(self.look, self.figure, seconds)
        dx, dy = head_sway(self.look, self.figure, seconds)
        return dx, rise + dy

    def face_box(self, index: int) -> tuple[float, float, float, float]:
        """The face (without hair) at frame index, in frame pixels."""
        dx, dy = self._moved(index)
        r = self.figure.r
        cx, cy = self.box[0] + self.figure.cx + dx, self.box[1] + self.figure.head_cy + dy
        return cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + r

    def draw(
        self, frame: av.VideoFrame, index: int, mouth: float = 0.0, *, blink: bool | None = None
    ) -> None:
        """Draw the presenter at frame index; mouth is how open it is (0 closed .. 1 wide).

        blink forces the eyes shut (True) or open (False); None follows the blink schedule.
        """
        rise = breathing_offset(self.look, self.figure, index / self.fps)
        self._body.blend_into(frame, (self._body_at[0], self._body_at[1] + rise))
        dx, dy = self._moved(index)
        closed = (not self.eyes_open(index)) if blink is None else blink
        head = self._head_closed if closed else self._head_open
        head.blend_into(frame, (self._head_at[0] + dx, self._head_at[1] + dy))
        level = min(MOUTH_LEVELS, round(max(0.0, mouth) * MOUTH_LEVELS))
        if level:
            overlay, at = self._mouths[level - 1]
            overlay.blend_into(frame, (at[0] + dx, at[1] + dy))
