"""Where text may go: the part of the frame no platform UI covers, per aspect ratio.

Fractions of the frame kept free on each side. The numbers come from the UI overlays the
platforms draw over a video: on 9:16 TikTok, Reels and Shorts put the account name, caption and
music line over the bottom ~20 %, the like/comment/share column over the right ~12 % and the
tabs and search over the top ~14 %; feeds show 1:1 and 16:9 with only a thin bar of controls
(and rounded corners), so those keep smaller margins.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SafeZone:
    top: float
    bottom: float
    left: float
    right: float

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe rectangle (x0, y0, x1, y1) in pixels of a width x height frame."""
        return (
            round(width * self.left),
            round(height * self.top),
            round(width * (1 - self.right)),
            round(height * (1 - self.bottom)),
        )


SAFE_ZONES: dict[str, SafeZone] = {
    "9:16": SafeZone(top=0.14, bottom=0.20, left=0.06, right=0.12),
    "1:1": SafeZone(top=0.06, bottom=0.10, left=0.06, right=0.06),
    "16:9": SafeZone(top=0.06, bottom=0.10, left=0.05, right=0.05),
}


def aspect_of(width: int, height: int) -> str:
    """The aspect ratio a frame is closest to, among the ones with a safe zone."""
    ratio = width / height
    return min(SAFE_ZONES, key=lambda name: abs(_ratio(name) - ratio))


def _ratio(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)


def safe_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The safe rectangle of a width x height frame."""
    return SAFE_ZONES[aspect_of(width, height)].box(width, height)
