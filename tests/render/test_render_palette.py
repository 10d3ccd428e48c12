"""The ad's palette: brand colour or the prompt's colour words, and text that can be read."""

from __future__ import annotations

import pytest

from knightvision.render.captions import caption_contrast
from knightvision.render.frames import _lit, scene_palettes
from knightvision.render.palette import (
    INK,
    MIN_CONTRAST,
    WHITE,
    BrandPalette,
    contrast_ratio,
    parse_brand_color,
    prompt_hue,
    text_colour_on,
)
from knightvision.render.spec import RenderSpec
from knightvision.render.storyboard import plan_scenes

AD = (
    "Tired of cold coffee? Meet Brewly, the mug that keeps it hot for 6 hours. "
    "Loved by 12,000 customers. Get 30% off this week only. Shop now at brewly.com"
)


def test_wcag_contrast_matches_the_reference_values():
    assert contrast_ratio(WHITE, (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((118, 118, 118), WHITE) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(WHITE, WHITE) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "prompt",
    [
        "Our red sneakers. Buy now.",
        "Nuestra botella azul. Compra ya.",
        "Un sac jaune. Achetez maintenant.",
        "Die grüne Flasche. Jetzt bestellen.",
        AD,
    ],
)
@pytest.mark.parametrize("brand", [None, "#FFFFFF", "#000000", "#FFD400", "#1E5BFF", "#7F7F7F"])
def test_every_scenes_text_reads_at_least_4_5_to_1(prompt, brand):
    scenes = plan_scenes(prompt, 10, 30)
    for palette in scene_palettes(scenes, BrandPalette.from_request(prompt, brand)):
        for background in (palette.top, palette.bottom, _lit(palette.top), _lit(palette.bottom)):
            assert contrast_ratio(palette.text, background) >= MIN_CONTRAST
        button_label = text_colour_on(palette.accent)  # the end card's button and offer badge
        assert contrast_ratio(button_label, palette.accent) >= MIN_CONTRAST


def test_captions_read_at_least_4_5_to_1_even_over_white():
    assert caption_contrast() >= MIN_CONTRAST


@pytest.mark.parametrize(
    ("prompt", "hue"),
    [
        ("Our red sneakers", 0.0),
        ("Zapatillas rojas para correr", 0.0),
        ("A blue bottle", 0.6),
        ("Uma garrafa azul", 0.6),
        ("Eine grüne Flasche", 0.33),
        ("Un sac rose", 0.9),
    ],
)
def test_colour_words_in_five_languages_set_the_hue(prompt, hue):
    assert prompt_hue(prompt) == hue
    assert BrandPalette.from_request(prompt).hue == hue


def test_without_a_colour_word_the_hue_is_the_prompts_own_and_stable():
    assert prompt_hue("Fresh bread every morning") == prompt_hue("Fresh bread every morning")
    assert prompt_hue("Fresh bread every morning") != prompt_hue("Fast bikes for the city")


def test_brand_color_wins_over_colour_words():
    palette = BrandPalette.from_request("Our red sneakers", "#1E5BFF")
    assert palette.brand == (0x1E, 0x5B, 0xFF)
    assert palette.hue == pytest.approx(0.62, abs=0.01)  # the hue of #1E5BFF


@pytest.mark.parametrize(
    "value", ["1E5BFF", "#1E5BF", "#1E5BFFAA", "#GGGGGG", "blue", "", " #1E5BFF"]
)
def test_invalid_brand_color_is_refused(value):
    with pytest.raises(ValueError, match="RRGGBB"):
        parse_brand_color(value)
    with pytest.raises(ValueError, match="RRGGBB"):
        RenderSpec(prompt="x", duration=2, width=720, height=1280, brand_color=value)


def test_white_and_ink_are_the_text_colours():
    assert text_colour_on((0, 0, 0)) == WHITE
    assert text_colour_on(WHITE) == INK
