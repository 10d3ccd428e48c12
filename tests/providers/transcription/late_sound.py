"""A video whose sound starts after its picture, as some ads are muxed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.fixtures import clips

ENGLISH_LINE = (
    "Order today and get free shipping. Thousands of busy parents already love this smart mug."
)


def speech_clip(path: Path, audio_start: float) -> Path:
    """Picture from 0 s; sound from ``audio_start`` s: half a second of silence (so the speech
    onset is measured, not the track's edge), then the English line in the piper voice (AAC)."""
    from knightvision.render import load_voice

    voice = load_voice()
    lead = np.zeros(voice.sample_rate // 2, np.float32)
    speech = np.concatenate([lead, voice.synthesize(ENGLISH_LINE)])
    pictures = [(i / 10, clips.flat(clips.RED)) for i in range(40)]
    return clips.write_media(
        path,
        pictures,
        audio=speech.astype(np.float32),
        audio_start=audio_start,
        audio_rate=voice.sample_rate,
        end=audio_start + len(speech) / voice.sample_rate,
    )
