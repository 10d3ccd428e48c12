"""Loudness: BS.1770 integrated loudness, 4× oversampled true peak, the limiter and the
normalisation to -14 LUFS under the true-peak ceiling; and the ducking of the bed under speech."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import resample_poly

from knightvision.render.loudness import (
    CEILING_DBTP,
    TARGET_LUFS,
    integrated_loudness,
    limit,
    normalise,
    true_peak_dbtp,
)
from knightvision.render.mix import DUCK_DB, MIX_RATE, duck_gain, mix_soundtrack
from knightvision.render.music import music_bed

RATE = 44_100


def reference_true_peak(samples: np.ndarray) -> float:
    """4× oversampling with scipy's default polyphase filter, the way the tests measure."""
    return 20 * math.log10(float(np.abs(resample_poly(samples.astype(np.float64), 4, 1)).max()))


def test_true_peak_finds_the_peak_between_samples() -> None:
    """A sine at a quarter of the rate, sampled 45° off its crests: every sample is at 0.707 of
    the wave's real peak, which is 3 dB higher."""
    n = np.arange(RATE)
    wave = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)
    sample_peak = 20 * math.log10(float(np.abs(wave).max()))
    assert sample_peak == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.05)
    assert true_peak_dbtp(wave) == pytest.approx(20 * math.log10(0.5), abs=0.2)
    assert true_peak_dbtp(wave) == pytest.approx(reference_true_peak(wave), abs=0.05)
    assert true_peak_dbtp(np.zeros(100, np.float32)) == -math.inf


def test_loudness_of_a_full_scale_sine() -> None:
    """BS.1770: a 997 Hz sine at 0 dBFS reads -3.01 LUFS."""
    t = np.arange(3 * RATE) / RATE
    assert integrated_loudness(np.sin(2 * np.pi * 997 * t), RATE) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(np.zeros(RATE), RATE) == -math.inf


def test_loudness_matches_pyloudnorm_on_real_sound(voice) -> None:
    """Our vectorised gating reads what pyloudnorm's meter reads, block for block: speech with
    pauses (the relative gate at work) and a music bed."""
    import pyloudnorm

    speech = voice.synthesize("Meet the new Aurora running shoe. Grab yours today!", pause=0.8)
    bed = music_bed("Aurora", "dramatic", 5.3, RATE)
    for samples, rate in ((speech, voice.sample_rate), (bed, RATE)):
        expected = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
        assert integrated_loudness(samples, rate) == pytest.approx(expected, abs=0.01)


def spiky(seconds: float = 4.0) -> np.ndarray:
    """A soft tone with sharp clicks on it: far more peak than loudness, like speech."""
    t = np.arange(round(seconds * RATE)) / RATE
    samples = 0.05 * np.sin(2 * np.pi * 220 * t)
    samples[:: RATE // 2] += 0.9
    return samples.astype(np.float32)


def test_limiter_holds_the_ceiling_and_leaves_the_rest_alone() -> None:
    samples = spiky()
    limited = limit(samples, RATE, -6.0)
    assert reference_true_peak(limited) <= -6.0 + 0.05
    # Between clicks (after the release) the tone is untouched.
    quiet = slice(RATE // 4, RATE // 2 - RATE // 100)
    np.testing.assert_allclose(limited[quiet], samples[quiet], atol=2e-3)
    np.testing.assert_array_equal(limit(samples * 0.1, RATE, -6.0), samples * 0.1)


def test_normalise_reaches_the_target_under_the_ceiling() -> None:
    out = normalise(spiky(), RATE)
    assert integrated_loudness(out, RATE) == pytest.approx(TARGET_LUFS, abs=0.3)
    assert reference_true_peak(out) <= CEILING_DBTP + 0.05
    assert out.dtype == np.float32


def test_the_mix_brings_real_speech_over_its_bed_to_the_target(voice) -> None:
    """Piper speaks ~20 dB above its loudness at its peaks; compressed, limited and mixed, it
    still reaches the target without crossing the ceiling."""
    speech = voice.synthesize("Meet the new Aurora running shoe. Grab yours today!", pause=0.3)
    assert integrated_loudness(speech, voice.sample_rate) < TARGET_LUFS - 3  # piper's own level
    padded = np.concatenate([np.zeros(voice.sample_rate // 2, np.float32), speech])
    track = mix_soundtrack(padded, voice.sample_rate, "Aurora", "upbeat", 6.0)
    # Measured -14.7: half speech, half music, the hardest case (the pauses weigh in the
    # integrated loudness, and the voice is already at its limit); the promise is ±1.
    assert integrated_loudness(track.samples, MIX_RATE) == pytest.approx(TARGET_LUFS, abs=1.0)
    assert reference_true_peak(track.samples) <= CEILING_DBTP + 0.05
    assert track.style == "upbeat"


def test_normalise_leaves_silence_silent() -> None:
    assert not normalise(np.zeros(RATE, np.float32), RATE).any()


def test_the_bed_ducks_under_speech_and_comes_back_smoothly() -> None:
    """Speech from 1 s to 3 s: the gain is down by DUCK_DB in the middle of it, back up a second
    after it, and moves a little at a time (no clicks)."""
    voice = np.zeros(5 * MIX_RATE, np.float32)
    t = np.arange(2 * MIX_RATE) / MIX_RATE
    voice[MIX_RATE : 3 * MIX_RATE] = 0.3 * np.sin(2 * np.pi * 180 * t)
    gain = duck_gain(voice, MIX_RATE)
    assert len(gain) == len(voice)
    assert 20 * math.log10(gain[2 * MIX_RATE]) == pytest.approx(DUCK_DB, abs=0.5)
    assert gain[int(0.5 * MIX_RATE)] == pytest.approx(1.0, abs=0.01)
    assert 20 * math.log10(gain[int(4.5 * MIX_RATE)]) > -1.0
    assert float(np.abs(np.diff(gain)).max()) < 1e-3
    # The attack is quicker than the release.
    down = np.argmax(gain < 10 ** (DUCK_DB / 2 / 20))
    up = np.argmax((gain > 10 ** (DUCK_DB / 2 / 20)) & (np.arange(len(gain)) > 2 * MIX_RATE))
    assert down - 0.9 * MIX_RATE < up - 3.0 * MIX_RATE


def test_a_bed_alone_is_normalised_too() -> None:
    track = mix_soundtrack(None, 22_050, "Fresh coffee", "calm", 6.0)
    assert track.sample_rate == MIX_RATE and len(track.samples) == 6 * MIX_RATE
    assert integrated_loudness(track.samples, MIX_RATE) == pytest.approx(TARGET_LUFS, abs=0.3)
    assert reference_true_peak(track.samples) <= CEILING_DBTP + 0.05
