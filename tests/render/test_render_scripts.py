"""Captions in every script: bundled faces only, glyphs really drawn, RTL order, colour emoji,
and characters no font has drawn as boxes and reported."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from knightvision.render import RenderSpec, render_storyboard
from knightvision.render.captions import render_caption
from knightvision.render.fonts import EMOJI_FOLDER, EMOJI_PACKAGE, FACES, face_font, package_dir
from knightvision.render.frames import SceneLook, scene_palettes
from knightvision.render.storyboard import plan_scenes
from knightvision.render.text_layout import (
    clusters,
    draw_line,
    layout_line,
    line_width,
    undrawable_characters,
    wrap_text,
)
from tests.fixtures.render_probe import decode_frames

SIZE = 48
WHITE = (255, 255, 255, 255)
BLACK = (0, 0, 0, 255)

SCRIPTS = {
    "latin_greek_cyrillic": ("Café Καλημέρα Привет", {"latin"}),
    "japanese": ("日本の夏、最高のビール", {"cjk"}),
    "chinese": ("今天就来试试新产品", {"cjk"}),
    "korean": ("지금 바로 구매하세요", {"cjk"}),
    "arabic": ("اشترِ الآن واحصل على خصم", {"arabic"}),
    "hebrew": ("קנו עכשיו וקבלו הנחה", {"hebrew"}),
    "english_arabic": ("Buy now اشتر الآن", {"latin", "arabic"}),
}


def _site_packages() -> list[Path]:
    return [Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")]


def _installed(path: Path) -> bool:
    return any(path.resolve().is_relative_to(root) for root in _site_packages())


def _draw(text: str) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """The line drawn alone (alpha) and each run's (text, left, right) in visual order."""
    layout = layout_line(text, SIZE)
    image = Image.new("RGBA", (round(layout.width) + 20, 2 * SIZE), (0, 0, 0, 0))
    draw_line(image, layout, 10, SIZE, fill=WHITE, stroke_width=0, stroke_fill=BLACK)
    spans, x = [], 10.0
    for run, width in zip(layout.runs, layout.widths, strict=True):
        spans.append((run.text, x, x + width))
        x += width
    return np.asarray(image), spans


def _find(needle: str, haystack: np.ndarray) -> int:
    """Where the ink of `needle`, drawn alone, sits in haystack (best-matching x offset)."""
    template = _draw(needle)[0][:, 10:-10, 3].astype(np.int32)
    field = haystack[:, :, 3].astype(np.int32)
    scores = [
        np.abs(field[:, x : x + template.shape[1]] - template).sum()
        for x in range(field.shape[1] - template.shape[1] + 1)
    ]
    return int(np.argmin(scores))


def test_every_face_and_emoji_picture_comes_from_an_installed_package():
    for face in FACES:
        assert face.path.is_file() and _installed(face.path), face
    assert _installed(package_dir(EMOJI_PACKAGE) / EMOJI_FOLDER)


def test_rendering_every_script_opens_no_font_outside_the_installed_packages(monkeypatch):
    opened: list[str] = []
    original = ImageFont.truetype

    def recording(font, *args, **kwargs):
        opened.append(str(font))
        return original(font, *args, **kwargs)

    monkeypatch.setattr(ImageFont, "truetype", recording)
    face_font.cache_clear()
    layout_line.cache_clear()
    for text, _ in SCRIPTS.values():
        assert render_caption(text + " 🚀", 720, 1280) is not None
    assert opened, "fonts were loaded"
    assert all(_installed(Path(path)) for path in opened), opened
    face_font.cache_clear()
    layout_line.cache_clear()


@pytest.mark.parametrize(("text", "faces"), SCRIPTS.values(), ids=SCRIPTS.keys())
def test_every_run_of_every_script_is_inked(text, faces):
    assert undrawable_characters(text) == []
    assert {run.face.name for run in layout_line(text, SIZE).runs if run.face} == faces
    alpha, spans = _draw(text)
    for run_text, left, right in spans:
        if run_text.strip():
            ink = alpha[:, round(left) : round(right), 3]
            assert (ink > 128).sum() > 0.04 * ink.size, run_text


@pytest.mark.parametrize(("text", "faces"), SCRIPTS.values(), ids=SCRIPTS.keys())
def test_caption_in_every_script_has_white_text(text, faces):
    layer, _ = render_caption(text, 720, 1280)
    rgb = np.asarray(layer)[:, :, :3].astype(np.int32)
    assert (rgb.min(axis=2) > 230).mean() > 0.03


def test_arabic_letters_are_joined():
    word = "سلام"
    assert line_width(word, SIZE) < 0.9 * sum(line_width(ch, SIZE) for ch in word)


def test_a_right_to_left_line_puts_its_english_words_on_the_left():
    mixed, _ = _draw("اشتر الآن Buy")
    assert _find("Buy", mixed) < _find("اشتر الآن", mixed)


def test_a_left_to_right_line_puts_its_arabic_words_on_the_right():
    mixed, _ = _draw("Buy اشتر الآن")
    assert _find("Buy", mixed) < _find("اشتر الآن", mixed)


def test_hebrew_reads_right_to_left():
    word, _ = _draw("שלום")
    assert _find("ש", word) > _find("ם", word)


@pytest.mark.parametrize("emoji", ["🚀", "👍🏽", "🇯🇵", "👨‍👩‍👧", "❤️", "✨"])
def test_emoji_are_one_cluster_drawn_in_colour(emoji):
    assert len(clusters(emoji)) == 1 and clusters(emoji)[0].emoji is not None
    layer, _ = render_caption(f"Go {emoji} now", 720, 1280)
    rgb = np.asarray(layer)[:, :, :3].astype(np.int32)
    saturated = (rgb.max(axis=2) - rgb.min(axis=2)) > 80
    assert saturated.sum() > 150


def test_text_presentation_symbols_stay_text():
    assert all(c.emoji is None for c in clusters("© 2026 #1 ™"))


def test_japanese_wraps_between_phrases_but_never_before_closing_marks():
    text = "日本の夏、最高のビールをあなたに。今すぐ注文してください！"
    lines = wrap_text(text, SIZE, 300)
    assert len(lines) > 2 and "".join(lines) == text
    assert all(line_width(line, SIZE) <= 300 for line in lines)
    assert not any(line[0] in "、。！ー" for line in lines)


def test_arabic_wraps_between_words_and_each_line_reads_right_to_left():
    text = "اشترِ الآن واحصل على خصم كبير جدا اليوم"
    lines = wrap_text(text, SIZE, 260)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(layout_line(line, SIZE).runs[0].rtl for line in lines)


def test_a_private_use_character_is_drawn_as_a_box_and_reported():
    text = "Box \ue000 here"
    assert undrawable_characters(text) == ["\ue000"]
    alpha, spans = _draw(text)
    (_, left, right) = next(span for span in spans if span[0] == "\ue000")
    assert (alpha[:, round(left) : round(right), 3] > 128).sum() > 50  # a visible box
    assert plan_scenes(f"Look {text}.", 3, 30)[0].text.count("\ue000") == 1


def test_a_short_storyboard_draws_every_script_and_reports_the_undrawable(tmp_path):
    prompt = " ".join(f"{text}." for text, _ in SCRIPTS.values()) + " Emoji 🚀\ue000."
    spec = RenderSpec(prompt=prompt, duration=3, width=720, height=1280, voice=False)
    report = render_storyboard(spec, tmp_path / "scripts.mp4")
    assert report.undrawable_characters == ("\ue000",)
    middles = {s.start_frame + s.frame_count // 2 for s in report.scenes}
    frames = decode_frames(report.path, middles)
    palettes = scene_palettes(report.scenes)
    for scene, palette in zip(report.scenes, palettes, strict=True):
        frame = frames[scene.start_frame + scene.frame_count // 2]
        look = SceneLook(scene, palette, spec.width, spec.height)
        x0 = min(box[0] for box in look.layers.text_boxes)
        y0 = min(box[1] for box in look.layers.text_boxes)
        x1 = max(box[2] for box in look.layers.text_boxes)
        y1 = max(box[3] for box in look.layers.text_boxes)
        region = frame[y0:y1, x0:x1].mean(axis=2)
        ink = (region > 220) if palette.text == (255, 255, 255) else (region < 40)
        # Text in the frame: white on the scene, or ink on a bright button.
        assert (ink.mean() > 0.02) or ((region < 40).mean() > 0.02), scene.text


def test_closing_punctuation_of_a_right_to_left_sentence_sits_on_its_left():
    line, _ = _draw("קנו עכשיו!")
    assert _find("!", line) < _find("קנו עכשיו", line)


def test_invisible_format_characters_are_neither_boxed_nor_reported():
    text = "\u200fA\u200bb\u200e c\u2060d\ufeff"
    assert undrawable_characters(text) == []
    assert all(not cluster.undrawable for cluster in clusters(text))


def test_an_arabic_phrase_with_a_number_inside_an_english_line_stays_one_right_to_left_phrase():
    line, _ = _draw("Sale اشتر الآن 50 خصم now")
    # The Arabic phrase reads from the right: its first words right of the number, its last left.
    assert _find("خصم", line) < _find("50", line) < _find("اشتر الآن", line)
    assert _find("Sale", line) < _find("خصم", line) and _find("اشتر الآن", line) < _find(
        "now", line
    )
