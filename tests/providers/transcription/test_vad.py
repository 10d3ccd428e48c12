"""Word times corrected by voice activity: starts moved onto the speech, phrase ends out to it."""

from __future__ import annotations

from knightvision.providers.transcription.vad import MAX_END_EXTENSION_S, align_words


def word(text: str, start: float, end: float) -> dict[str, object]:
    return {"word": text, "start": start, "end": end, "probability": 0.9}


SPANS = [{"start": 0.5, "end": 2.0}, {"start": 3.0, "end": 4.5}]


def test_an_early_first_word_starts_with_the_speech() -> None:
    [first, second] = align_words([word("Order", 0.2, 0.8), word("today", 0.8, 1.9)], SPANS)
    assert (first["start"], first["end"]) == (0.5, 0.8)
    assert second["start"] == 0.8


def test_the_last_word_of_a_phrase_ends_with_the_speech() -> None:
    words = [word("Order", 0.5, 0.8), word("today.", 0.8, 1.8), word("free.", 3.0, 4.3)]
    aligned = align_words(words, SPANS)
    assert [w["end"] for w in aligned] == [0.8, 2.0, 4.5]  # words inside a phrase keep their end
    assert [w["word"] for w in aligned] == ["Order", "today.", "free."]


def test_a_phrase_end_far_from_its_last_word_is_left_alone() -> None:
    # more speech after the last word than Whisper's usual lateness: probably unwritten words
    short = 2.0 - MAX_END_EXTENSION_S - 0.1
    aligned = align_words([word("Order", 0.5, short)], SPANS)
    assert aligned[0]["end"] == short


def test_a_word_outside_any_speech_is_kept_as_heard() -> None:
    aligned = align_words([word("uh", 2.2, 2.6)], SPANS)
    assert (aligned[0]["start"], aligned[0]["end"]) == (2.2, 2.6)
