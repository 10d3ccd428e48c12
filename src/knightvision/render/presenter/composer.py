"""The presenter's layers, prepared once, and every frame of the video in order."""

from __future__ import annotations

import av
import numpy as np

from ..spec import PresenterSpec
from ..yuv import YUV_FORMAT, Overlay, planes, rgb_to_yuv420
from .backdrop import draw_backdrop
from .body import draw_body
from .figure import Figure
from .head import draw_head
from .look import presenter_look
from .motion import blink_frames, breathing_offset, head_sway


class PresenterComposer:
    """The prepared layers, and every frame of the video in order."""

    def __init__(self, spec: PresenterSpec) -> None:
        self.spec = spec
        self.look = presenter_look(spec.prompt)
        self.figure = Figure(spec.width, spec.height)
        backdrop = draw_backdrop(self.look, spec.width, spec.height)
        self._base = [plane.copy() for plane in planes(rgb_to_yuv420(np.asarray(backdrop)))]
        body, self._body_at = draw_body(self.look, self.figure)
        self._body = Overlay.from_rgba(body)
        head_open, self._head_at = draw_head(self.look, self.figure, eyes_open=True)
        head_closed, _ = draw_head(self.look, self.figure, eyes_open=False)
        self._head_open = Overlay.from_rgba(head_open)
        self._head_closed = Overlay.from_rgba(head_closed)
        self.total_frames = spec.duration * spec.fps
        self._closed = blink_frames(self.look, self.total_frames, spec.fps)

    def frame(self, index: int) -> av.VideoFrame:
        seconds = index / self.spec.fps
        frame = av.VideoFrame(self.spec.width, self.spec.height, YUV_FORMAT)
        for target, source in zip(planes(frame), self._base, strict=True):
            target[...] = source
        rise = breathing_offset(self.look, self.figure, seconds)
        self._body.blend_into(frame, (self._body_at[0], self._body_at[1] + rise))
        dx, dy = head_sway(self.look, self.figure, seconds)
        head = self._head_closed if index in self._closed else self._head_open
        head.blend_into(frame, (self._head_at[0] + dx, self._head_at[1] + rise + dy))
        frame.pts = index
        return frame
