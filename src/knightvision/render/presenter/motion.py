"""How the presenter moves: it breathes, its head sways and it blinks, all from the look's seed."""

from __future__ import annotations

import math

from .figure import Figure
from .look import PresenterLook


def blink_frames(look: PresenterLook, total_frames: int, fps: int) -> set[int]:
    """Frames with the eyes closed: a short blink every 2.2-4.6 s, irregularly."""
    closed: set[int] = set()
    length = max(3, round(0.14 * fps))
    t = 0.6 + look.seed[10] / 255 * 1.2
    k = 0
    while t * fps < total_frames:
        start = round(t * fps)
        closed.update(range(start, min(total_frames, start + length)))
        k += 1
        t += 2.2 + look.seed[(11 + k) % 32] / 255 * 2.4
    return closed


def breathing_offset(look: PresenterLook, fig: Figure, seconds: float) -> int:
    """How far (pixels, upwards negative) the figure has risen with its breath."""
    period = 3.6 + look.seed[24] / 255 * 1.4
    return -round(fig.breath * (1 - math.cos(2 * math.pi * seconds / period)) / 2)


def head_sway(look: PresenterLook, fig: Figure, seconds: float) -> tuple[int, int]:
    """How far (pixels, x and y) the head has drifted: two slow sines, phased by the seed."""
    phase = look.seed[25] / 255 * math.tau
    dx = round(0.004 * fig.width * math.sin(2 * math.pi * seconds / 5.3 + phase))
    dy = round(0.0025 * fig.height * math.sin(2 * math.pi * seconds / 6.7 + phase))
    return dx, dy
