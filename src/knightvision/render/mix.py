"""The soundtrack: voice-over over a music bed ducked under it, normalised for the platforms.

The bed sits a fixed distance below the voice's own loudness and drops a further 12 dB while
the voice speaks: a side-chain gain envelope from the voice track, smooth (80 ms attack, 300 ms
release) and started a little early, since the whole voice track is known before the mix. The sum
is brought to -14 LUFS under the true-peak ceiling (:mod:`.loudness`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from .loudness import integrated_loudness, limit, normalise
from .music import music_bed

MIX_RATE = 44_100
BED_BELOW_VOICE_DB = 7.0  # the bed between sentences, relative to the voice's loudness
BED_LOUDNESS_ALONE = -20.0  # LUFS of the bed before normalisation when there is no voice
DUCK_DB = -12.0
DUCK_ATTACK = 0.08  # s
DUCK_RELEASE = 0.30  # s
DUCK_LOOKAHEAD = 0.04  # s: the bed is already going down as the first syllable starts
ENVELOPE_BLOCK = 0.01  # s
VOICE_GATE = 0.01  # RMS over a block above this counts as speaking (about -40 dBFS)
#: Speech peaks ~20 dB over its loudness; a -14 LUFS mix under -1 dBTP leaves room for ~12. The
#: voice's peaks are levelled first, gently (80 ms release), so the final limiter barely works.
VOICE_PEAK_OVER_LOUDNESS_DB = 10.0
VOICE_LEVELLER_RELEASE = 0.08  # s


@dataclass(frozen=True)
class Soundtrack:
    """The mixed, normalised track and what went into it."""

    samples: np.ndarray  # mono float32 at `sample_rate`
    sample_rate: int
    style: str | None  # the bed's mood; None without a bed


def to_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """samples resampled from rate to target (polyphase, exact ratio)."""
    if rate == target:
        return samples.astype(np.float32)
    divisor = math.gcd(rate, target)
    resampled: np.ndarray = resample_poly(samples, target // divisor, rate // divisor)
    return resampled.astype(np.float32)


def duck_gain(voice: np.ndarray, rate: int) -> np.ndarray:
    """Per-sample gain for the bed: 1 in the clear, DUCK_DB under speech, moving smoothly."""
    block = round(ENVELOPE_BLOCK * rate)
    count = -(-len(voice) // block)
    padded = np.zeros(count * block, dtype=np.float64)
    padded[: len(voice)] = voice
    rms = np.sqrt(np.mean(padded.reshape(count, block) ** 2, axis=1))
    speaking = (rms > VOICE_GATE).astype(np.float64)
    ahead = round(DUCK_LOOKAHEAD / ENVELOPE_BLOCK)
    speaking = np.concatenate([speaking[ahead:], np.zeros(ahead)])
    attack = 1 - math.exp(-ENVELOPE_BLOCK / DUCK_ATTACK)
    release = 1 - math.exp(-ENVELOPE_BLOCK / DUCK_RELEASE)
    level = 0.0
    envelope = []
    for target in speaking.tolist():  # one-pole follower: quick down, slow back up
        level += (target - level) * (attack if target > level else release)
        envelope.append(level)
    depth = 10 ** (DUCK_DB * np.asarray(envelope) / 20)
    centres = (np.arange(count) + 0.5) * block
    return np.interp(np.arange(len(voice)), centres, depth)


def mix_soundtrack(
    voice: np.ndarray | None, voice_rate: int, prompt: str, style: str | None, duration: float
) -> Soundtrack:
    """Voice (or None) over the style's bed (or none), normalised; exactly `duration` seconds."""
    total = round(duration * MIX_RATE)
    if style is None:
        bed = np.zeros(total, dtype=np.float32)
    else:
        bed = music_bed(prompt, style, duration, MIX_RATE)
    bed_loudness = integrated_loudness(bed, MIX_RATE)
    speech = np.zeros(total, dtype=np.float32)
    if voice is not None and np.any(voice):
        speech = to_rate(voice, voice_rate, MIX_RATE)
        speech = np.pad(speech[:total], (0, max(0, total - len(speech))))
        speech_loudness = integrated_loudness(speech, MIX_RATE)
        speech = limit(
            speech,
            MIX_RATE,
            speech_loudness + VOICE_PEAK_OVER_LOUDNESS_DB,
            release=VOICE_LEVELLER_RELEASE,
        )
        target = integrated_loudness(speech, MIX_RATE) - BED_BELOW_VOICE_DB
        bed *= duck_gain(speech, MIX_RATE)
    else:
        target = BED_LOUDNESS_ALONE
    if math.isfinite(bed_loudness):
        bed *= 10 ** ((target - bed_loudness) / 20)
    mixed = normalise((speech + bed).astype(np.float32), MIX_RATE)
    return Soundtrack(mixed, MIX_RATE, style)
