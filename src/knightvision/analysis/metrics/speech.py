"""Speech facts from the transcript: when it starts, how many words, how fast."""

from __future__ import annotations

from typing import Any

from knightvision.providers.transcription.port import Transcript


def speech_facts(transcript: Transcript) -> dict[str, Any]:
    words = transcript.words if transcript.transcribable else []
    if words:
        count = len(words)
        spoken = max(0.0, float(words[-1]["end"]) - float(words[0]["start"]))
    else:
        count = len(transcript.text.split()) if transcript.transcribable else 0
        spoken = sum(max(0.0, s["end"] - s["start"]) for s in transcript.speech_spans)
    return {
        "speech_start_s": None
        if transcript.speech_start is None
        else round(transcript.speech_start, 3),
        "word_count": count,
        "words_per_minute": round(count / spoken * 60, 1) if count and spoken > 0 else None,
        "transcribable": transcript.transcribable,
        "language": transcript.language,
    }
