"""The presenter's head: hair, face and features, with the eyes open or closed."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..colour import blend, shade
from .figure import Figure
from .look import PresenterLook
from .pen import Pen


def draw_head(
    look: PresenterLook, fig: Figure, *, eyes_open: bool
) -> tuple[Image.Image, tuple[int, int]]:
    """Hair, face and features, as an RGBA layer and its top-left corner in the frame."""
    r, cx, cy = fig.r, fig.cx, fig.head_cy
    left, top = round(cx - 1.7 * r), round(cy - 1.6 * r)
    pen = Pen((round(3.4 * r), round(3.6 * r)), (left, top))
    skin, hair = look.skin, look.hair
    hair_back = shade(hair, 0.82)

    if look.hair_style == "long":
        pen.rounded(cx - 1.05 * r, cy - 0.9 * r, cx + 1.05 * r, cy + 1.85 * r, 0.75 * r, hair_back)
    elif look.hair_style == "bun":
        pen.ellipse(cx - 0.42 * r, cy - 1.5 * r, cx + 0.42 * r, cy - 0.72 * r, hair_back)
    elif look.hair_style == "curly":
        pen.ellipse(cx - 1.25 * r, cy - 1.45 * r, cx + 1.25 * r, cy + 0.75 * r, hair_back)
    for side in (-1, 1):  # ears
        pen.ellipse(
            cx + side * 0.8 * r - 0.14 * r,
            cy - 0.15 * r,
            cx + side * 0.8 * r + 0.14 * r,
            cy + 0.3 * r,
            shade(skin, 0.9),
        )
    pen.ellipse(cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + r, skin)  # face

    if look.hair_style != "bald":
        pen.chord(cx - 0.88 * r, cy - 1.12 * r, cx + 0.88 * r, cy + 0.4 * r, 180, 360, hair)
        part = 0.25 * r if look.seed[8] % 2 else -0.25 * r
        pen.polygon(
            [
                (cx - 0.86 * r, cy - 0.34 * r),
                (cx + part, cy - 0.98 * r),
                (cx + 0.86 * r, cy - 0.34 * r),
                (cx + part * 0.4, cy - 0.5 * r),
            ],
            hair,
        )
        if look.hair_style == "long":
            for side in (-1, 1):
                pen.rounded(
                    cx + side * 0.74 * r - 0.15 * r,
                    cy - 0.5 * r,
                    cx + side * 0.74 * r + 0.15 * r,
                    cy + 0.95 * r,
                    0.12 * r,
                    hair,
                )
        if look.hair_style == "curly":
            for k in range(9):
                angle = math.pi * (1.05 + 0.9 * k / 8)
                x, y = cx + 0.86 * r * math.cos(angle), cy - 0.35 * r + 0.8 * r * math.sin(angle)
                pen.ellipse(x - 0.2 * r, y - 0.2 * r, x + 0.2 * r, y + 0.2 * r, hair)
    else:
        pen.ellipse(cx - 0.35 * r, cy - 0.9 * r, cx + 0.05 * r, cy - 0.7 * r, shade(skin, 1.12))

    brow = shade(hair, 0.7) if look.hair_style != "bald" else shade(skin, 0.45)
    ey = cy - 0.08 * r
    for side in (-1, 1):
        ex = cx + side * 0.33 * r
        pen.line(
            [(ex - 0.16 * r, ey - 0.2 * r), (ex + 0.16 * r, ey - 0.24 * r)]
            if side < 0
            else [(ex - 0.16 * r, ey - 0.24 * r), (ex + 0.16 * r, ey - 0.2 * r)],
            brow,
            0.07 * r,
        )
        if eyes_open:
            pen.ellipse(ex - 0.15 * r, ey - 0.09 * r, ex + 0.15 * r, ey + 0.09 * r, (250, 250, 248))
            pen.ellipse(ex - 0.085 * r, ey - 0.085 * r, ex + 0.085 * r, ey + 0.085 * r, look.eyes)
            pen.ellipse(
                ex - 0.042 * r, ey - 0.042 * r, ex + 0.042 * r, ey + 0.042 * r, (16, 14, 14)
            )
            pen.ellipse(ex + 0.01 * r, ey - 0.05 * r, ex + 0.04 * r, ey - 0.02 * r, (255, 255, 255))
        else:
            pen.arc(
                ex - 0.15 * r,
                ey - 0.1 * r,
                ex + 0.15 * r,
                ey + 0.06 * r,
                10,
                170,
                shade(skin, 0.5),
                0.035 * r,
            )

    pen.ellipse(cx - 0.08 * r, cy + 0.1 * r, cx + 0.08 * r, cy + 0.3 * r, shade(skin, 0.9))  # nose
    if look.beard:
        pen.chord(cx - 0.82 * r, cy - 0.35 * r, cx + 0.82 * r, cy + 1.06 * r, 0, 180, hair)
        pen.ellipse(cx - 0.3 * r, cy + 0.3 * r, cx + 0.3 * r, cy + 0.6 * r, skin)
    lips = blend(skin, (170, 60, 70), 0.55)
    pen.arc(cx - 0.28 * r, cy + 0.26 * r, cx + 0.28 * r, cy + 0.56 * r, 25, 155, lips, 0.06 * r)
    if look.glasses:
        frame = (30, 28, 30)
        for side in (-1, 1):
            ex = cx + side * 0.33 * r
            pen.rounded(
                ex - 0.24 * r,
                ey - 0.17 * r,
                ex + 0.24 * r,
                ey + 0.15 * r,
                0.07 * r,
                None,
                frame,
                0.045 * r,
            )
        pen.line([(cx - 0.09 * r, ey - 0.04 * r), (cx + 0.09 * r, ey - 0.04 * r)], frame, 0.04 * r)
    layer = pen.done()
    blush = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    blush_pen = ImageDraw.Draw(blush)
    for side in (-1, 1):
        x, y = cx + side * 0.45 * r - left, cy + 0.22 * r - top
        blush_pen.ellipse(
            (x - 0.16 * r, y - 0.1 * r, x + 0.16 * r, y + 0.1 * r), fill=(230, 90, 100, 46)
        )
    blush = blush.filter(ImageFilter.GaussianBlur(radius=max(1.0, 0.05 * r)))
    face_alpha = layer.getchannel("A")
    blush.putalpha(
        Image.fromarray(np.minimum(np.asarray(blush.getchannel("A")), np.asarray(face_alpha)))
    )
    return Image.alpha_composite(layer, blush), (left, top)
