"""Where speech is, measured with the Silero VAD model bundled in faster-whisper
(local, no download).

Whisper's own timestamps are good for words in the middle of speech but often put the first word
of a phrase a few hundred milliseconds early; voice activity detection with a small pad finds the
real onsets (measured: piper speech starting at 0.50 s → VAD 0.51 s, Whisper's first word 0.14 s).
So ``speech_spans`` (and the speech start derived from them) come from here for every engine, and
word starts that precede the speech they belong to are moved onto it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE_RATE = 16000
PAD_MS = 30
MIN_SILENCE_MS = 300


def speech_spans(audio: np.ndarray) -> list[dict[str, float]]:
    """``[{start, end}]`` in seconds of the speech in 16 kHz mono ``audio``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if audio.size < SAMPLE_RATE // 10:
        return []
    stamps = get_speech_timestamps(
        audio, VadOptions(speech_pad_ms=PAD_MS, min_silence_duration_ms=MIN_SILENCE_MS)
    )
    return [
        {"start": round(s["start"] / SAMPLE_RATE, 3), "end": round(s["end"] / SAMPLE_RATE, 3)}
        for s in stamps
    ]


#: How far the last word of a phrase may be stretched to the end of its voice activity. The base
#: model ends phrase-final words early (measured on the piper ad: 0.15-0.22 s before the voice
#: stops, every phrase); a longer gap is more likely speech Whisper did not write down.
MAX_END_EXTENSION_S = 0.4


def align_words(words: list[dict[str, Any]], spans: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Move a word's start forward onto the speech span it overlaps most, when it starts before
    it; and the end of the last word in a span out to the span's end, when it ends before it
    (by at most ``MAX_END_EXTENSION_S``)."""
    if not spans:
        return words
    aligned = []
    homes: list[int | None] = []
    for word in words:
        start, end = float(word["start"]), float(word["end"])
        index = max(
            range(len(spans)),
            key=lambda i: (
                min(end, spans[i]["end"]) - max(start, spans[i]["start"]),
                -abs(spans[i]["start"] - start),
            ),
        )
        best = spans[index]
        overlaps = min(end, best["end"]) - max(start, best["start"]) > 0
        if overlaps and start < best["start"]:
            word = {**word, "start": round(min(best["start"], end), 3)}
        aligned.append(word)
        homes.append(index if overlaps else None)
    for position, home in enumerate(homes):
        if home is None or home in homes[position + 1 :]:
            continue  # outside any speech, or not the last word of its span
        span_end = spans[home]["end"]
        end = float(aligned[position]["end"])
        if end < span_end <= end + MAX_END_EXTENSION_S:
            aligned[position] = {**aligned[position], "end": round(span_end, 3)}
    return aligned
