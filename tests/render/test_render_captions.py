"""Caption layout: fonts, glyph filtering, wrapping, fitting inside safe margins."""

from __future__ import annotations

import numpy as np
import pytest

from knightvision.render.captions import (
    ELLIPSIS,
    drawable_text,
    fit_caption,
    load_font,
    render_caption,
    wrap_words,
)

SIZES = [(720, 1280), (1280, 720), (720, 720), (1080, 1920), (1920, 1080), (1080, 1080)]


def test_font_is_scalable_and_cached():
    font = load_font(48)
    assert font.size == 48
    assert load_font(48) is font


def test_glyphs_the_font_lacks_are_dropped():
    font = load_font(40)
    assert drawable_text("Go 🚀 fast", font) == "Go fast"
    assert drawable_text("🚀🔥", font) == ""
    assert drawable_text("Café", font) == "Café"


def test_wrap_respects_width_and_breaks_long_words():
    font = load_font(40)
    lines = wrap_words("supercalifragilistic " * 3 + "x" * 80, font, 300)
    assert all(font.getlength(line) <= 300 for line in lines)
    assert "".join(lines).replace(" ", "") == ("supercalifragilistic" * 3 + "x" * 80)


def test_overlong_text_shrinks_then_truncates_with_ellipsis():
    font, lines = fit_caption("word " * 400, 60, 500, 3)
    assert len(lines) == 3
    assert lines[-1].endswith(ELLIPSIS)
    assert font.size < 60


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_caption_stays_inside_safe_area(width, height):
    layer, (x, y) = render_caption(
        "Feather-light foam keeps every step springy and fresh all day.", width, height
    )
    assert x >= round(width * 0.08) - 1
    assert x + layer.width <= width - round(width * 0.08) + 1
    assert y >= 0 and y + layer.height < height * 0.95
    alpha = np.asarray(layer)[:, :, 3]
    assert alpha.max() == 255  # opaque text strokes on a translucent box


def test_caption_scales_with_resolution():
    small, _ = render_caption("Same caption", 720, 1280)
    big, _ = render_caption("Same caption", 1080, 1920)
    assert big.height > small.height * 1.3


@pytest.mark.parametrize("text", ["", "   ", "🚀🔥✨"])
def test_nothing_drawable_means_no_caption(text):
    assert render_caption(text, 720, 1280) is None
