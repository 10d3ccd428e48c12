"""Caption lines in Japanese, Chinese and Thai break between phrases (BudouX), never inside a
word, with the kinsoku rules; the text shrinks before a phrase is cut; nothing is clipped."""

from __future__ import annotations

import budoux
import numpy as np
import pytest

from knightvision.render.captions import caption_block, fit_caption
from knightvision.render.line_breaks import NO_LINE_END, NO_LINE_START, break_offsets
from knightvision.render.safe_zones import safe_box
from knightvision.render.storyboard import MAX_BEAT_CHARS, chunk_sentence
from knightvision.render.text_layout import line_width, wrap_text

PHRASES = {
    "ja": budoux.load_default_japanese_parser(),
    "zh-hans": budoux.load_default_simplified_chinese_parser(),
    "zh-hant": budoux.load_default_traditional_chinese_parser(),
    "th": budoux.load_default_thai_parser(),
}
# Greedy wrapping between any two characters cut these mid-word on a 720x1280 caption
# ("さ / よなら", "产 / 品", "ส่วนล / ด").
CAPTIONS = {
    "ja": "冷たいコーヒーにさよなら。このマグは一日中温かい。",
    "zh-hans": "今天就来试试新产品，全场八折优惠，快来抢购吧！",
    "zh-hant": "今天就來試試新產品，全場八折優惠，快來搶購吧！",
    "th": "สั่งซื้อวันนี้รับส่วนลดพิเศษทันทีและจัดส่งฟรีทั่วประเทศ",
}


def phrase_starts(text: str, language: str) -> set[int]:
    starts, offset = set(), 0
    for phrase in PHRASES[language].parse(text):
        starts.add(offset)
        offset += len(phrase)
    return starts


def cuts(lines: list[str]) -> list[int]:
    """Where each line after the first starts in the text (lines of an unspaced text)."""
    offsets, offset = [], 0
    for line in lines[:-1]:
        offset += len(line)
        offsets.append(offset)
    return offsets


def caption_lines(text: str, width: int, height: int) -> tuple[int, list[str]]:
    """The size and lines caption_block sets text in, for a frame of this size."""
    x0, _, x1, _ = safe_box(width, height)
    base = max(16, round(min(width, height) * 0.075))
    return fit_caption(text, base, x1 - x0 - 2 * round(base * 0.45), 5 if height > width else 3)


@pytest.mark.parametrize("language", sorted(CAPTIONS))
def test_a_caption_on_several_lines_breaks_only_between_phrases(language: str) -> None:
    text = CAPTIONS[language]
    _, lines = caption_lines(text, 720, 1280)
    assert len(lines) >= 2 and "".join(lines) == text
    assert set(cuts(lines)) <= phrase_starts(text, language), lines


def test_the_japanese_caption_needing_three_lines_keeps_every_word_whole() -> None:
    text = CAPTIONS["ja"]
    size, lines = caption_lines(text, 720, 1280)
    assert lines == ["冷たいコーヒーに", "さよなら。このマグは", "一日中温かい。"]
    assert size == 54  # the caption's full size: nothing had to shrink


def test_a_phrase_wider_than_the_line_shrinks_the_text_rather_than_being_cut() -> None:
    text = "新しいランニングシューズで、街も週末のトレイルも軽やかに走ろう。"
    assert "ランニングシューズで、" in PHRASES["ja"].parse(text)
    width = line_width("ランニングシューズで、", 54) - 20  # too narrow for it at full size
    size, lines = fit_caption(text, 54, round(width), 5)
    assert size < 54 and "ランニングシューズで、" in lines
    assert set(cuts(lines)) <= phrase_starts(text, "ja")


@pytest.mark.parametrize("max_width", range(130, 400, 9))  # three characters a line and up
def test_a_word_that_must_be_cut_is_cut_where_kinsoku_allows(max_width: int) -> None:
    word = "スーパーウルトラライトウェイト・ランニングシューズ「エアー」ジャケット"
    lines = wrap_text(word, 40, max_width)
    assert "".join(lines) == word and len(lines) > 1
    assert all(line_width(line, 40) <= max_width for line in lines)
    assert not any(line[0] in NO_LINE_START for line in lines[1:]), lines
    assert not any(line[-1] in NO_LINE_END for line in lines[:-1]), lines


def test_no_line_starts_with_closing_marks_nor_ends_with_an_opening_bracket() -> None:
    text = "買う （ 今 ） ！ 「新」 発売、 ぜひ"
    starts = sorted(break_offsets(text))
    assert [text[i] for i in starts] == ["（", "「", "発", "ぜ"]  # not "今", "）", "！"


def test_kinsoku_holds_in_every_line_of_a_wrapped_caption() -> None:
    text = "「限定」セール開催中！今だけ（数量限定）の特別価格で、人気のマグをお届けします。"
    for max_width in range(160, 600, 23):
        lines = wrap_text(text, 40, max_width)
        assert "".join(lines) == text
        assert not any(line[0] in NO_LINE_START for line in lines[1:]), lines
        assert not any(line[-1] in NO_LINE_END for line in lines[:-1]), lines


def test_latin_words_inside_japanese_stay_whole() -> None:
    text = "HeatMugは最高のマグカップです"
    for max_width in range(round(line_width("HeatMug", 40)) + 1, 400, 20):
        lines = wrap_text(text, 40, max_width)
        assert any("HeatMug" in line for line in lines), lines


def test_korean_still_breaks_between_words_and_syllables() -> None:
    text = "지금 바로 구매하세요"
    assert {text[i] for i in break_offsets(text)} >= {"바", "구", "매"}


def test_a_long_japanese_sentence_is_split_into_beats_between_phrases() -> None:
    text = (
        "新しいランニングシューズは、軽くてやわらかいフォームで一歩ごとにあなたの走りを支え、"
        "街の道も週末のトレイルも同じように快適に走れるように作られていて、"
        "毎日のトレーニングがもっと楽しくなります"
    )
    beats = chunk_sentence(text)
    assert len(beats) == 2 and "".join(beats) == text
    assert all(len(beat) <= MAX_BEAT_CHARS for beat in beats)
    assert set(cuts(beats)) <= phrase_starts(text, "ja")
    assert beats[1][0] not in NO_LINE_START


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (1080, 1920), (1280, 720)])
@pytest.mark.parametrize("language", sorted(CAPTIONS))
def test_a_wrapped_caption_is_drawn_whole_inside_its_box(
    language: str, width: int, height: int
) -> None:
    """No glyph is cut by the box's edge: text ink (the white fill) stays clear of the box's
    padding, and the box stays in the safe zone."""
    caption = caption_block(CAPTIONS[language], width, height)
    assert caption is not None
    rgba = np.asarray(caption.image).astype(np.int32)
    ink = (rgba[:, :, :3].min(axis=2) > 200) & (rgba[:, :, 3] > 200)
    margin = max(2, round(caption.size * 0.45) // 2)
    assert ink[margin:-margin, margin:-margin].sum() > 500  # the text is there
    assert not ink[:margin].any() and not ink[-margin:].any()
    assert not ink[:, :margin].any() and not ink[:, -margin:].any()
    x, y = caption.position
    x0, y0, x1, y1 = safe_box(width, height)
    assert x0 <= x and x + caption.image.width <= x1 and y0 <= y and y + caption.image.height <= y1
