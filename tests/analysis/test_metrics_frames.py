"""On-screen text times at a variable frame rate: each sample is read from the frame with its
own timestamp, never from the previous shot's last picture a few milliseconds earlier."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.analysis.metrics import measure
from knightvision.media.frames import extract_frames
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import clips

SILENT = Transcript(
    text="", language=None, language_probability=None, segments=[], words=[], engine="none"
)


def test_captions_are_timed_by_their_frames_at_a_variable_frame_rate(tmp_path: Path) -> None:
    clip = clips.vfr_caption_clip()
    frames = extract_frames(clip.path, tmp_path)
    spans = measure(clip.path, frames, SILENT)["on_screen_text"]
    assert [span["text"] for span in spans] == [scene.text for scene in clip.captions]
    for span, scene in zip(spans, clip.captions, strict=True):
        assert span["start_s"] == pytest.approx(scene.start, abs=0.01), spans
        assert span["end_s"] == pytest.approx(scene.end, abs=0.01), spans
