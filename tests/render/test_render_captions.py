"""Caption layout: the bundled font, wrapping, fitting inside safe margins."""

from __future__ import annotations

import numpy as np
import pytest

from knightvision.render.captions import ELLIPSIS, fit_caption, load_font, render_caption
from knightvision.render.safe_zones import safe_box
from knightvision.render.text_layout import line_width, wrap_text

SIZES = [(720, 1280), (1280, 720), (720, 720), (1080, 1920), (1920, 1080), (1080, 1080)]


def test_font_is_scalable_and_cached():
    font = load_font(48)
    assert font.size == 48
    assert load_font(48) is font


def test_wrap_respects_width_and_breaks_long_words():
    lines = wrap_text("supercalifragilistic " * 3 + "x" * 80, 40, 300)
    assert all(line_width(line, 40) <= 300 for line in lines)
    assert "".join(lines).replace(" ", "") == ("supercalifragilistic" * 3 + "x" * 80)


def test_overlong_text_shrinks_then_truncates_with_ellipsis():
    size, lines = fit_caption("word " * 400, 60, 500, 3)
    assert len(lines) == 3
    assert lines[-1].endswith(ELLIPSIS)
    assert line_width(lines[-1], size) <= 500
    assert size < 60


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_caption_stays_inside_safe_area(width, height):
    layer, (x, y) = render_caption(
        "Feather-light foam keeps every step springy and fresh all day.", width, height
    )
    x0, y0, x1, y1 = safe_box(width, height)  # out of the platforms' UI
    assert x0 <= x and x + layer.width <= x1
    assert y0 <= y and y + layer.height <= y1
    alpha = np.asarray(layer)[:, :, 3]
    assert alpha.max() == 255  # opaque text strokes on a translucent box


def test_caption_scales_with_resolution():
    small, _ = render_caption("Same caption", 720, 1280)
    big, _ = render_caption("Same caption", 1080, 1920)
    assert big.height > small.height * 1.3


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_nothing_drawable_means_no_caption(text):
    assert render_caption(text, 720, 1280) is None


def test_evening_out_the_lines_never_cuts_a_word_the_wrap_kept_whole():
    # The narrower widths tried to balance the lines used to cut "Feather-ligh / t" here (the
    # bench ad's second product scene): the caption then lit no word as it was said.
    text = "Feather-light foam keeps every step springy."
    size, lines = fit_caption(text, 90, 560, 4)
    assert " ".join(lines) == text
    assert len(lines) == 4 and size < 90
