"""Words per minute over the time spent speaking, and no rate for too little speech."""

from __future__ import annotations

import pytest

from knightvision.analysis.metrics.speech import speech_facts
from knightvision.providers.transcription.port import Transcript


def _transcript(words: list[tuple[str, float, float]]) -> Transcript:
    return Transcript(
        text=" ".join(w for w, _, _ in words),
        language="en",
        language_probability=None,
        segments=[],
        words=[{"word": w, "start": s, "end": e, "probability": 0.9} for w, s, e in words],
        engine="test",
    )


def _steady(count: int, start: float, per_word: float) -> list[tuple[str, float, float]]:
    """``count`` words back to back, ``per_word`` seconds each (60 / per_word words a minute)."""
    return [(f"w{i}", start + i * per_word, start + (i + 1) * per_word) for i in range(count)]


def test_a_one_word_clip_has_no_rate() -> None:
    facts = speech_facts(_transcript([("Hi", 0.2, 0.306)]))  # 566 words a minute, taken literally
    assert facts["word_count"] == 1 and facts["words_per_minute"] is None


def test_a_long_pause_does_not_lower_the_rate() -> None:
    first = _steady(10, 0.5, 0.4)  # 150 words a minute for 4 s
    second = _steady(10, 12.0, 0.4)  # the same after a 7.5 s pause
    facts = speech_facts(_transcript(first + second))
    assert facts["words_per_minute"] == pytest.approx(150.0, abs=0.5)


def test_short_gaps_between_words_are_speaking_time() -> None:
    # 12 words of 0.3 s with 0.1 s between them: 0.4 s a word, 150 words a minute
    words = [(f"w{i}", i * 0.4, i * 0.4 + 0.3) for i in range(12)]
    facts = speech_facts(_transcript(words))
    assert facts["words_per_minute"] == pytest.approx(12 / (11 * 0.4 + 0.3) * 60, abs=0.5)
