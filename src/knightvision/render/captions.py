"""Caption typography: font lookup, glyph filtering, wrapping and drawing.

Captions are drawn once per scene into an RGBA layer (never per frame), so the
cost here does not scale with the video length.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TypeAlias

from PIL import Image, ImageDraw, ImageFont

Font: TypeAlias = ImageFont.FreeTypeFont

# Bold sans fonts commonly present on Linux images, best first. Pillow's own
# scalable default (Aileron, Latin only) is the offline fallback.
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
)
# A private-use code point no caption font maps: renders as the "missing" box.
_MISSING_PROBE = "\U000f0000"
ELLIPSIS = "…"

TEXT_FILL = (255, 255, 255, 255)
STROKE_FILL = (0, 0, 0, 255)
BOX_FILL = (8, 8, 16, 175)


@lru_cache(maxsize=32)
def load_font(size: int) -> Font:
    """Bold TrueType font at `size` px, falling back to Pillow's built-in one."""
    for candidate in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType
        raise RuntimeError("no scalable font available for captions")
    return font


@lru_cache(maxsize=8192)
def _has_glyph(font: Font, char: str) -> bool:
    mask = font.getmask(char, mode="L")
    missing = font.getmask(_MISSING_PROBE, mode="L")
    if mask.size != missing.size:
        return True
    return bytes(mask) != bytes(missing)


def drawable_text(text: str, font: Font) -> str:
    """Drop characters the font cannot draw (emoji etc.) instead of showing boxes."""
    kept = "".join(ch for ch in text if ch.isspace() or _has_glyph(font, ch))
    return " ".join(kept.split())


def wrap_words(text: str, font: Font, max_width: int) -> list[str]:
    """Greedy word wrap by rendered width; over-wide words are broken by characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        pieces = [word]
        if font.getlength(word) > max_width:
            pieces = _break_word(word, font, max_width)
        for piece in pieces:
            candidate = f"{current} {piece}" if current else piece
            if current and font.getlength(candidate) > max_width:
                lines.append(current)
                current = piece
            else:
                current = candidate
    if current:
        lines.append(current)
    return lines


def _break_word(word: str, font: Font, max_width: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and font.getlength(current + ch) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def _truncate(lines: list[str], max_lines: int, font: Font, max_width: int) -> list[str]:
    """Keep max_lines lines, ending the last one with an ellipsis that fits."""
    kept = lines[:max_lines]
    last = kept[-1]
    while last and font.getlength(last + ELLIPSIS) > max_width:
        last = last[:-1].rstrip()
    kept[-1] = last + ELLIPSIS
    return kept


def fit_caption(
    text: str, base_size: int, max_width: int, max_lines: int
) -> tuple[Font, list[str]]:
    """Largest font (down to half of base_size) at which text fits; else truncate."""
    min_size = max(12, base_size // 2)
    size = base_size
    while True:
        font = load_font(size)
        lines = wrap_words(drawable_text(text, font), font, max_width)
        if len(lines) <= max_lines:
            return font, lines
        if size <= min_size:
            return font, _truncate(lines, max_lines, font, max_width)
        size = max(min_size, int(size * 0.88))


def render_caption(
    text: str, width: int, height: int
) -> tuple[Image.Image, tuple[int, int]] | None:
    """Draw the caption block (box + stroked text) for a width x height frame.

    Returns the RGBA layer and its top-left position, or None when there is
    nothing drawable. Sizes scale with the short side; the block sits in the
    lower part of the frame inside safe margins (platform UI covers the
    bottom edge of vertical videos, hence the larger bottom margin there).
    """
    short = min(width, height)
    base_size = max(16, round(short * 0.075))
    margin_x = round(width * 0.08)
    pad = round(base_size * 0.45)
    max_width = width - 2 * margin_x - 2 * pad
    portrait = height > width
    max_lines = 5 if portrait else 3
    font, lines = fit_caption(text, base_size, max_width, max_lines)
    if not lines:
        return None
    stroke = max(2, round(font.size / 14))
    line_height = math.ceil(font.size * 1.22)
    text_width = max(math.ceil(font.getlength(line)) for line in lines) + 2 * stroke
    box_w = min(width - 2 * margin_x, text_width + 2 * pad)
    box_h = line_height * len(lines) + 2 * pad
    layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((0, 0, box_w - 1, box_h - 1), radius=pad, fill=BOX_FILL)
    for row, line in enumerate(lines):
        draw.text(
            (box_w / 2, pad + row * line_height + line_height / 2),
            line,
            font=font,
            fill=TEXT_FILL,
            anchor="mm",
            stroke_width=stroke,
            stroke_fill=STROKE_FILL,
        )
    bottom_margin = round(height * (0.16 if portrait else 0.08))
    x = (width - box_w) // 2
    y = max(0, height - bottom_margin - box_h)
    return layer, (x, y)
