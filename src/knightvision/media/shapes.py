"""The frame shapes we deliver: the contract's aspect ratios at 720p and 1080p.

One home for the video domain (what a partner may ask for), the upstream adapters (what they must
deliver) and our renderer (what it can draw).
"""

from __future__ import annotations

ASPECT_RATIOS = ("9:16", "16:9", "1:1")
RESOLUTIONS = ("720p", "1080p")
DEFAULT_ASPECT_RATIO = "9:16"
DEFAULT_RESOLUTION = "720p"  # every model renders it

FRAME_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720p", "9:16"): (720, 1280),
    ("720p", "16:9"): (1280, 720),
    ("720p", "1:1"): (720, 720),
    ("1080p", "9:16"): (1080, 1920),
    ("1080p", "16:9"): (1920, 1080),
    ("1080p", "1:1"): (1080, 1080),
}
