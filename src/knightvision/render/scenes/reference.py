"""A reference picture (a product still) as a framed inset above the product scene's line."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps


def reference_inset(path: Path, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """A reference frame as a white-framed inset in the upper part of the frame."""
    with Image.open(path) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
    short = min(width, height)
    box = round(short * (0.46 if height > width else 0.34))
    picture = ImageOps.contain(picture, (box, box))
    border = max(4, round(short * 0.008))
    framed = ImageOps.expand(picture, border=border, fill=(255, 255, 255))
    shadow_pad = border * 2
    layer = Image.new(
        "RGBA", (framed.width + 2 * shadow_pad, framed.height + 2 * shadow_pad), (0, 0, 0, 0)
    )
    ImageDraw.Draw(layer).rectangle(
        (shadow_pad, shadow_pad * 2, layer.width - shadow_pad, layer.height - 1),
        fill=(0, 0, 0, 110),
    )
    layer = layer.filter(ImageFilter.GaussianBlur(radius=border))
    layer.paste(framed, (shadow_pad, shadow_pad))
    x = (width - layer.width) // 2
    y = round(height * (0.10 if height > width else 0.06))
    return layer, (x, y)
