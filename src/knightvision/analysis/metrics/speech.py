"""Speech facts from the transcript: when it starts, how many words, how fast."""

from __future__ import annotations

from typing import Any

from knightvision.providers.transcription.port import Transcript


def speech_facts(transcript: Transcript) -> dict[str, Any]:
    words = transcript.words if transcript.transcribable else []
    if words:
        count = len(words)
        spoken = speaking_seconds(words)
    else:
        count = len(transcript.text.split()) if transcript.transcribable else 0
        spoken = sum(max(0.0, s["end"] - s["start"]) for s in transcript.speech_spans)
    return {
        "speech_start_s": None
        if transcript.speech_start is None
        else round(transcript.speech_start, 3),
        "word_count": count,
        "words_per_minute": words_per_minute(count, spoken),
        "transcribable": transcript.transcribable,
        "language": transcript.language,
    }


#: A silence between two words longer than this is a pause, not part of speaking.
PAUSE_S = 0.5
#: Below these a rate says nothing (one word over half a second is not 120 words a minute).
RATE_MIN_WORDS = 5
RATE_MIN_SECONDS = 2.0


def speaking_seconds(words: list[dict[str, Any]]) -> float:
    """Time spent speaking: each word's span plus the short gaps between words; pauses longer
    than ``PAUSE_S`` (and the silence before and after) do not count."""
    total = 0.0
    previous_end: float | None = None
    for word in words:
        start, end = float(word["start"]), float(word["end"])
        total += max(0.0, end - start)
        if previous_end is not None and 0 < start - previous_end <= PAUSE_S:
            total += start - previous_end
        previous_end = end if previous_end is None else max(previous_end, end)
    return total


def words_per_minute(count: int, spoken: float) -> float | None:
    """Words per minute of speaking time; None when too little was said to rate."""
    if count < RATE_MIN_WORDS or spoken < RATE_MIN_SECONDS:
        return None
    return round(count / spoken * 60, 1)
