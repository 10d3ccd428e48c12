"""Transitions between scenes, done in the yuv420p planes: a cross-fade or a push.

A push slides the previous scene out while the next one comes in behind it (up into a product
scene, sideways into an offer): two plane copies per frame, cheaper than the cross-fade's blend.
"""

from __future__ import annotations

import av
import numpy as np

from ..roles import Role
from ..yuv import crossfade, planes

#: Seconds a transition lasts, held to 6..10 frames whatever the frame rate.
TRANSITION_SECONDS = 0.27
TRANSITION_FRAMES = (6, 10)

PUSH_UP = "push_up"
PUSH_LEFT = "push_left"
CROSSFADE = "crossfade"

_INTO = {Role.PRODUCT: PUSH_UP, Role.OFFER: PUSH_LEFT, Role.PROOF: PUSH_UP}


def transition_kind(into: Role) -> str:
    """How a scene of this role comes in."""
    return _INTO.get(into, CROSSFADE)


def transition_frames(fps: int, scene_frames: int) -> int:
    """Frames a transition lasts: about a quarter second, never more than a third of the scene."""
    low, high = TRANSITION_FRAMES
    return min(max(low, min(high, round(TRANSITION_SECONDS * fps))), scene_frames // 3)


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def apply_transition(kind: str, frame: av.VideoFrame, previous: av.VideoFrame, t: float) -> None:
    """Mix the previous scene's frame into frame (the next scene's), t of the way through."""
    if kind == CROSSFADE:
        crossfade(frame, previous, t)
        return
    vertical = kind == PUSH_UP
    extent = frame.height if vertical else frame.width
    shift = round(extent * (1 - _ease(t)) / 2) * 2  # even, so chroma planes stay aligned
    if shift <= 0:
        return
    for index, (dst, src) in enumerate(zip(planes(frame), planes(previous), strict=True)):
        s = shift if index == 0 else shift // 2
        n = dst.shape[0] if vertical else dst.shape[1]
        if vertical:
            incoming = np.array(dst[: n - s])
            dst[s:] = incoming  # the next scene slides in from the bottom ...
            dst[:s] = src[n - s :]  # ... pushing the previous one out of the top
        else:
            incoming = np.array(dst[:, : n - s])
            dst[:, s:] = incoming
            dst[:, :s] = src[:, n - s :]
