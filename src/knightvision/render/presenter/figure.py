"""Where the presenter stands in the frame; every part of it is sized from the head."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """Where the presenter stands in a WxH frame (output pixels)."""

    width: int
    height: int

    @property
    def r(self) -> float:  # half the head's height: every part is sized from it
        return min(0.12 * self.height, 0.17 * self.width)

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def head_cy(self) -> float:
        return 0.40 * self.height

    @property
    def shoulders_y(self) -> float:
        return self.head_cy + 1.45 * self.r

    @property
    def breath(self) -> int:  # how far the figure rises on an in-breath, pixels
        return max(2, round(0.005 * self.height))
