"""Audio peak and clipping on exact signals, and damaged audio packets skipped, not fatal."""

from __future__ import annotations

import numpy as np
import pytest

from knightvision.analysis.metrics.audio import audio_facts, audio_levels
from tests.fixtures import clips

RATE = 48_000


def test_peak_is_the_highest_sample_in_dbfs() -> None:
    levels = audio_levels(clips.tone(2.0, 0.5, RATE), RATE)
    assert levels["audio_peak_dbfs"] == pytest.approx(20 * np.log10(0.5), abs=0.05)
    assert levels["clipping_ratio"] == 0.0


def test_clipping_ratio_is_the_share_of_samples_at_full_scale() -> None:
    # a tone driven 2x past full scale and clipped: sin(x) >= 0.5 for a third of each period
    clipped = np.clip(clips.tone(2.0, 2.0, RATE), -1.0, 1.0)
    levels = audio_levels(clipped, RATE)
    assert levels["audio_peak_dbfs"] == pytest.approx(0.0, abs=0.01)
    share = float((np.abs(clips.tone(2.0, 2.0, RATE)) >= 0.999).mean())
    assert levels["clipping_ratio"] == pytest.approx(share, abs=0.002)
    assert 0.6 <= levels["clipping_ratio"] <= 0.7
    silent = audio_levels(np.zeros(RATE, np.float32), RATE)
    assert (silent["audio_peak_dbfs"], silent["clipping_ratio"]) == (None, 0.0)


def test_damaged_audio_packets_are_skipped_and_counted() -> None:
    intact = audio_facts(clips.intact_clip())
    assert intact["warning"] is None
    damaged = audio_facts(clips.damaged_copy(clips.intact_clip(), "audio-hit.mp4", corrupt=400))
    assert damaged["warning"]["code"] == "decode_errors"
    assert damaged["warning"]["stream"] == "audio" and damaged["warning"]["count"] >= 1
    assert damaged["silence_ratio"] == pytest.approx(intact["silence_ratio"], abs=0.1)
