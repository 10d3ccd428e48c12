"""Scene planning: prompt -> beats -> frame-exact, proportional scenes."""

from __future__ import annotations

from itertools import pairwise

import pytest

from knightvision.render.storyboard import (
    MAX_BEAT_CHARS,
    allocate_frames,
    chunk_sentence,
    merge_beats,
    plan_scenes,
    split_beats,
    split_sentences,
)

AD = (
    "Meet the new Aurora running shoe. Built for city miles and weekend trails. "
    "Feather-light foam keeps every step springy. Grab yours today and run further!"
)


def assert_covers(scenes, duration: int, fps: int = 30) -> None:
    """Scenes are contiguous, in order, and cover exactly duration*fps frames."""
    assert scenes[0].start_frame == 0
    for index, (a, b) in enumerate(pairwise(scenes)):
        assert a.end_frame == b.start_frame
        assert a.index == index
    assert scenes[-1].end_frame == duration * fps
    assert scenes[-1].end == pytest.approx(duration)


def test_sentences_split_on_terminal_punctuation():
    assert split_sentences('He said "hi." Then left!  Really?? Yes... ok 3.5 is fine') == [
        'He said "hi."',
        "Then left!",
        "Really??",
        "Yes...",
        "ok 3.5 is fine",
    ]


def test_newlines_end_beats_and_cjk_stops_split_without_spaces():
    assert split_sentences("Line one\nline two") == ["Line one", "line two"]
    assert split_sentences("你好。我很好！谢谢") == ["你好。", "我很好！", "谢谢"]


def test_each_sentence_becomes_a_scene_in_order():
    scenes = plan_scenes(AD, 10, 30)
    assert [s.text for s in scenes] == split_sentences(AD)
    assert_covers(scenes, 10)


def test_scene_length_is_proportional_to_text_length():
    scenes = plan_scenes(
        "Short. A much longer sentence here with very many words in it. Mid size one.", 10, 30
    )
    short, long, mid, end_card = (s.frame_count for s in scenes)
    assert long > mid > short
    assert end_card == 2 * 30  # a fifth of the video, said apart from the body
    assert_covers(scenes, 10)


def test_every_scene_gets_the_minimum_time():
    scenes = plan_scenes("Hi. " + "word " * 70 + ".", 5, 30)
    assert min(s.frame_count for s in scenes) >= 30
    assert_covers(scenes, 5)


@pytest.mark.parametrize("duration", [1, 2, 3, 7, 13, 60])
def test_timings_sum_exactly_to_duration(duration):
    scenes = plan_scenes(AD * 3, duration, 30)
    assert_covers(scenes, duration)
    assert sum(s.frame_count for s in scenes) == duration * 30


def test_too_many_sentences_are_merged_keeping_all_text():
    prompt = " ".join(f"Sentence number {i}." for i in range(40))
    scenes = plan_scenes(prompt, 4, 30)
    assert len(scenes) == 3  # 2.5 s of body hold two scenes, then the end card
    assert " ".join(s.text for s in scenes[:-1]) == prompt
    assert scenes[-1].text == "Learn more"
    assert_covers(scenes, 4)


def test_merge_prefers_shortest_neighbours():
    assert merge_beats(["a", "b", "long sentence here", "c"], 3) == [
        "a b",
        "long sentence here",
        "c",
    ]
    assert merge_beats(["x"] * 5, 1) == ["x x x x x"]


def test_long_sentence_is_chunked_to_caption_size():
    sentence = (
        "This is a very long sentence that goes on and on, with clauses here and there; and it "
        "does not stop until it reaches well beyond the limit of eighty characters, obviously."
    )
    chunks = chunk_sentence(sentence)
    assert len(chunks) > 1
    assert all(len(c) <= MAX_BEAT_CHARS for c in chunks)
    assert " ".join(chunks) == sentence
    assert chunks[0].endswith(",")  # cut at a clause mark, not mid-clause


def test_prompt_without_punctuation_or_spaces_is_chunked():
    no_punct = "buy now " * 60
    assert all(len(b) <= MAX_BEAT_CHARS for b in split_beats(no_punct))
    blob = "x" * 2000
    beats = split_beats(blob)
    assert "".join(beats) == blob
    assert all(len(b) <= MAX_BEAT_CHARS for b in beats)


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t \r\n", "\x00\x07"])
def test_empty_prompt_gives_one_silent_caption_less_scene(prompt):
    scenes = plan_scenes(prompt, 4, 30)
    assert len(scenes) == 1
    assert scenes[0].text == ""
    assert not scenes[0].speakable
    assert_covers(scenes, 4)


@pytest.mark.parametrize(
    "prompt",
    [
        "🚀🔥 ✨!!! 🎉",
        "Ünïcödé ñ 日本語 العربية ★ ✓. Ok.",
        "a\u200db\ufe0f. c",
        "." * 500,
        "?! ?! ?!",
    ],
)
def test_weird_input_plans_without_crashing(prompt):
    scenes = plan_scenes(prompt, 6, 30)
    assert_covers(scenes, 6)


def test_same_prompt_same_plan():
    assert plan_scenes(AD, 12, 30) == plan_scenes(AD, 12, 30)


def test_allocate_frames_largest_remainder():
    assert allocate_frames([1, 1, 1], 100, 10) == [34, 33, 33]
    assert allocate_frames([1, 3], 40, 30) == [20, 20]  # minimum capped to an even share
    assert sum(allocate_frames([7, 1, 5, 2], 301, 30)) == 301
