"""Caption blocks: the largest size at which the text fits, on a box in the safe area.

Faces, wrapping and drawing in every script are :mod:`.text_layout`'s; a character no bundled
face has is drawn as a box and reported (:func:`.text_layout.undrawable_characters`).

Captions are drawn once per scene into an RGBA layer (never per frame), so the
cost here does not scale with the video length.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .colour import blend
from .fonts import PRIMARY, Font, face_font
from .palette import contrast_ratio
from .safe_zones import safe_box
from .text_block import Box, draw_text_block
from .text_layout import line_width, segments_fit, truncate_line, wrap_text

ELLIPSIS = "…"

TEXT_FILL = (255, 255, 255, 255)
STROKE_FILL = (0, 0, 0, 255)
BOX_FILL = (8, 8, 16, 175)


def load_font(size: int) -> Font:
    """The bundled bold Latin/Greek/Cyrillic face at `size` px (cached)."""
    return face_font(PRIMARY, size)


def fit_caption(text: str, base_size: int, max_width: int, max_lines: int) -> tuple[int, list[str]]:
    """Largest size (down to half of base_size) at which text fits without cutting a word or a
    phrase (:mod:`.line_breaks`), its lines balanced; at the smallest size words are cut if they
    must be, and what does not fit is truncated."""
    min_size = max(12, base_size // 2)
    size = base_size
    while True:
        lines = wrap_text(text, size, max_width)
        if len(lines) <= max_lines and (size <= min_size or segments_fit(text, size, max_width)):
            return size, balanced(text, size, lines)
        if size <= min_size:
            kept = lines[:max_lines]
            kept[-1] = truncate_line(kept[-1], size, max_width, ELLIPSIS)
            return size, kept
        size = max(min_size, int(size * 0.88))


@dataclass(frozen=True)
class Caption:
    """A drawn caption block, where it goes in the frame, and each word's box in the frame (in
    the order of the text's words; None for a word not placed on its own or cut off)."""

    image: Image.Image
    position: tuple[int, int]
    word_boxes: tuple[Box | None, ...]
    size: int  # the text's size in px


def caption_block(
    text: str,
    width: int,
    height: int,
    *,
    region: Box | None = None,
    middle: bool = False,
    scale: float = 1.0,
) -> Caption | None:
    """The caption block (box + stroked text) for a width x height frame.

    None when there is nothing drawable. Sizes scale with the short side (times `scale`); the
    block sits at the bottom of `region` (or in its middle), by default the frame's safe zone
    (:mod:`.safe_zones`: platform UI covers the edges of the video).
    """
    x0, y0, x1, y1 = region if region is not None else safe_box(width, height)
    short = min(width, height)
    base_size = max(16, round(short * 0.075 * scale))
    pad = round(base_size * 0.45)
    portrait = height > width
    size, lines = fit_caption(text, base_size, x1 - x0 - 2 * pad, 5 if portrait else 3)
    if not lines:
        return None
    block = draw_text_block(
        lines,
        size,
        TEXT_FILL,
        stroke_width=max(2, round(size / 14)),
        stroke_fill=STROKE_FILL,
        spacing=1.22,
        pad=(pad, pad),
        box_fill=BOX_FILL,
        box_radius=pad,
        max_width=x1 - x0,
    )
    box_w, box_h = block.image.size
    x = (x0 + x1 - box_w) // 2
    y = (y0 + y1 - box_h) // 2 if middle else y1 - box_h
    words = len(text.split())
    boxes = block.word_boxes if len(block.word_boxes) <= words else ()  # a word broken apart
    placed = tuple(None if b is None else (b[0] + x, b[1] + y, b[2] + x, b[3] + y) for b in boxes)
    placed += (None,) * (words - len(placed))
    return Caption(block.image, (x, y), placed, size)


def balanced(text: str, size: int, lines: list[str]) -> list[str]:
    """The same number of lines, as even as they go: a greedy wrap leaves a word or a single
    character alone on the last line ("温か / い。"), which no caption should."""
    if len(lines) < 2:
        return lines
    width = max(line_width(line, size) for line in lines)
    narrowest = sum(line_width(line, size) for line in lines) / len(lines)
    whole = segments_fit(text, size, width)
    for step in range(20):
        tried = narrowest + (width - narrowest) * step / 20
        if whole and not segments_fit(text, size, tried):
            continue  # narrower than a word or phrase: it would be cut
        even = wrap_text(text, size, tried)
        if len(even) == len(lines):
            return even
    return lines


def render_caption(
    text: str,
    width: int,
    height: int,
    *,
    region: Box | None = None,
    middle: bool = False,
    scale: float = 1.0,
) -> tuple[Image.Image, tuple[int, int]] | None:
    """The caption block's RGBA layer and its top-left position (see :func:`caption_block`)."""
    caption = caption_block(text, width, height, region=region, middle=middle, scale=scale)
    return None if caption is None else (caption.image, caption.position)


def caption_contrast() -> float:
    """The caption text's WCAG contrast on its box over the worst background (pure white)."""
    alpha = BOX_FILL[3] / 255
    box_on_white = blend((255, 255, 255), BOX_FILL[:3], alpha)
    return contrast_ratio(TEXT_FILL[:3], box_on_white)
