"""The presenter's body: neck, torso and the outfit the prompt asked for."""

from __future__ import annotations

from PIL import Image

from ..colour import shade
from .figure import Figure
from .look import PresenterLook
from .pen import Pen


def draw_body(look: PresenterLook, fig: Figure) -> tuple[Image.Image, tuple[int, int]]:
    """Neck, torso and clothes, as an RGBA layer and its top-left corner in the frame."""
    r, cx, ys = fig.r, fig.cx, fig.shoulders_y
    left, top = round(cx - 2.7 * r), round(fig.head_cy + 0.4 * r)
    bottom = fig.height + fig.breath + 4  # rising with a breath must never show a gap below
    pen = Pen((round(5.4 * r), bottom - top), (left, top))
    sw, bw = 2.05 * r, 2.4 * r
    clothing, dark = look.clothing, shade(look.clothing, 0.72)

    if look.outfit == "hoodie":  # the hood, draped behind the neck
        pen.ellipse(cx - 1.15 * r, ys - 0.6 * r, cx + 1.15 * r, ys + 0.6 * r, shade(clothing, 0.6))
    pen.rounded(
        cx - 0.36 * r,
        fig.head_cy + 0.45 * r,
        cx + 0.36 * r,
        ys + 0.4 * r,
        0.2 * r,
        shade(look.skin, 0.86),
    )
    # torso: rounded shoulders widening towards the bottom of the frame
    pen.ellipse(cx - sw, ys, cx + sw, ys + 1.9 * r, clothing)
    pen.polygon(
        [(cx - sw, ys + 0.95 * r), (cx + sw, ys + 0.95 * r), (cx + bw, bottom), (cx - bw, bottom)],
        clothing,
    )
    for side in (-1, 1):  # where the arms meet the chest
        pen.line(
            [(cx + side * (sw - 0.5 * r), ys + 1.0 * r), (cx + side * (bw - 0.55 * r), bottom)],
            dark,
            0.07 * r,
        )

    if look.outfit in ("suit", "labcoat"):
        v_bottom = ys + (1.9 if look.outfit == "suit" else 2.3) * r
        pen.polygon(
            [(cx - 0.62 * r, ys - 0.05 * r), (cx + 0.62 * r, ys - 0.05 * r), (cx, v_bottom)],
            look.shirt,
        )
        if look.outfit == "labcoat":
            pen.polygon(
                [
                    (cx - 0.45 * r, v_bottom - 0.6 * r),
                    (cx + 0.45 * r, v_bottom - 0.6 * r),
                    (cx + 0.45 * r, bottom),
                    (cx - 0.45 * r, bottom),
                ],
                look.shirt,
            )
        collar = shade(look.shirt, 1.25)
        pen.polygon(
            [
                (cx - 0.55 * r, ys - 0.08 * r),
                (cx - 0.05 * r, ys + 0.32 * r),
                (cx - 0.36 * r, ys + 0.52 * r),
            ],
            collar,
        )
        pen.polygon(
            [
                (cx + 0.55 * r, ys - 0.08 * r),
                (cx + 0.05 * r, ys + 0.32 * r),
                (cx + 0.36 * r, ys + 0.52 * r),
            ],
            collar,
        )
        if look.outfit == "suit":  # tie: knot and blade
            pen.polygon(
                [
                    (cx - 0.13 * r, ys + 0.22 * r),
                    (cx + 0.13 * r, ys + 0.22 * r),
                    (cx + 0.09 * r, ys + 0.46 * r),
                    (cx - 0.09 * r, ys + 0.46 * r),
                ],
                look.accent,
            )
            pen.polygon(
                [
                    (cx - 0.09 * r, ys + 0.46 * r),
                    (cx + 0.09 * r, ys + 0.46 * r),
                    (cx + 0.2 * r, v_bottom - 0.15 * r),
                    (cx, v_bottom + 0.1 * r),
                    (cx - 0.2 * r, v_bottom - 0.15 * r),
                ],
                look.accent,
            )
        lapel = shade(clothing, 0.82 if look.outfit == "suit" else 0.9)
        for side in (-1, 1):
            pen.polygon(
                [
                    (cx + side * 0.62 * r, ys - 0.05 * r),
                    (cx + side * 0.95 * r, ys + 0.15 * r),
                    (cx + side * 0.55 * r, ys + 0.95 * r),
                    (cx, v_bottom),
                ],
                lapel,
            )
        for k in range(2):
            pen.ellipse(
                cx - 0.07 * r,
                v_bottom + (0.35 + 0.55 * k) * r,
                cx + 0.07 * r,
                v_bottom + (0.49 + 0.55 * k) * r,
                shade(clothing, 0.5),
            )
        if look.stethoscope:
            pen.arc(
                cx - 0.75 * r,
                ys - 0.5 * r,
                cx + 0.75 * r,
                ys + 1.3 * r,
                20,
                160,
                (70, 72, 78),
                0.08 * r,
            )
            pen.ellipse(cx + 0.35 * r, ys + 1.1 * r, cx + 0.6 * r, ys + 1.35 * r, (170, 172, 178))
    elif look.outfit == "apron":
        pen.ellipse(cx - 0.5 * r, ys - 0.3 * r, cx + 0.5 * r, ys + 0.4 * r, shade(look.skin, 0.86))
        pen.arc(
            cx - 0.5 * r,
            ys - 0.3 * r,
            cx + 0.5 * r,
            ys + 0.4 * r,
            0,
            180,
            shade(clothing, 0.7),
            0.08 * r,
        )
        pen.rounded(cx - 1.0 * r, ys + 0.9 * r, cx + 1.0 * r, bottom + r, 0.15 * r, look.accent)
        for side in (-1, 1):
            pen.line(
                [(cx + side * 0.9 * r, ys + 0.95 * r), (cx + side * 0.45 * r, ys + 0.1 * r)],
                look.accent,
                0.12 * r,
            )
        pen.rounded(
            cx - 0.45 * r,
            ys + 1.6 * r,
            cx + 0.45 * r,
            ys + 2.2 * r,
            0.08 * r,
            shade(look.accent, 0.8),
        )
    else:
        neck_drop = {"sweater": 0.3, "dress": 0.65, "hoodie": 0.45}.get(look.outfit, 0.45)
        pen.ellipse(
            cx - 0.5 * r, ys - 0.3 * r, cx + 0.5 * r, ys + neck_drop * r, shade(look.skin, 0.86)
        )
        rim = 0.14 * r if look.outfit == "sweater" else 0.07 * r
        pen.arc(
            cx - 0.5 * r,
            ys - 0.3 * r,
            cx + 0.5 * r,
            ys + neck_drop * r,
            0,
            180,
            shade(clothing, 0.7),
            rim,
        )
        if look.outfit == "hoodie":
            for side in (-1, 1):
                pen.line(
                    [(cx + side * 0.28 * r, ys + 0.3 * r), (cx + side * 0.3 * r, ys + 1.25 * r)],
                    look.accent,
                    0.06 * r,
                )
            pen.rounded(
                cx - 0.95 * r,
                ys + 2.3 * r,
                cx + 0.95 * r,
                ys + 3.1 * r,
                0.3 * r,
                None,
                dark,
                0.06 * r,
            )
    return pen.done(), (left, top)
