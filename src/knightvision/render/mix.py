"""The soundtrack: voice-over over a music bed ducked under it, normalised for the platforms.

The voice is compressed (3:1 above its own level), then brought up to -13 LUFS on its own under
the true-peak ceiling (:mod:`.loudness`): a mix's pauses weigh in its integrated loudness, so
the voice has to stand a little above the -14 LUFS the whole should reach. The bed drops 15 dB
while the voice speaks: a side-chain gain envelope from the voice track, smooth (80 ms attack,
300 ms release) and started a little early, since the whole voice track is known before the
mix. The bed's level is then solved for: as loud as it takes for the sum to reach -14 LUFS,
between 12 and 4 dB under the voice when speech is dense (the bed fills pauses), up to the
voice's level when speech is sparse (the bed carries the video). The sum is limited under the
ceiling, with a small push if the bed could not get it all the way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from .loudness import (
    TARGET_LUFS,
    compress,
    gated_loudness,
    integrated_loudness,
    k_weighted,
    normalise,
)
from .music import music_bed

MIX_RATE = 44_100
#: The bed's loudness (unducked) relative to the voice's: the range its level is solved in. The
#: top depends on how much of the video is speech: 4 dB under the voice when it speaks half the
#: time or more (the bed fills pauses), up to 1 dB under it as speech gets sparse (the bed
#: carries the video).
BED_UNDER_VOICE_DB = (-12.0, -4.0)
BED_ALONE_UNDER_VOICE_DB = 0.0
SPEECH_SHARE_FOR_LOWEST_BED = 0.5
BED_SOLVE_STEPS = 4
#: How far the final pass may push the sum past its plain gain to make up for its limiter: a
#: little when speech is dense (the push would only lift the pauses), more as it gets sparse.
FINAL_PUSH_DB = (0.5, 2.0)
DUCK_DB = (
    -15.0
)  # at -12 dB our own transcription (whisper tiny.en) lost a short word of the sample ad
DUCK_ATTACK = 0.08  # s
DUCK_RELEASE = 0.30  # s
DUCK_LOOKAHEAD = 0.04  # s: the bed is already going down as the first syllable starts
ENVELOPE_BLOCK = 0.01  # s
VOICE_GATE = 0.01  # RMS over a block above this counts as speaking (about -40 dBFS)
#: Speech peaks ~20 dB over its loudness; at -13 LUFS under the ceiling it has room for ~10. So
#: the voice is levelled on its own first, its peaks limited with a quick release (20 ms: with
#: 80 ms the gain never recovers between syllables and the voice tops out ~1 dB short), the bed
#: is set against the voice as it will be heard, and the final pass only trims the sum.
#: Limiting the sum harder would pull the voice down and lift the bed between sentences.
VOICE_LUFS = -13.0
VOICE_LIMITER_RELEASE = 0.02  # s


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
    voice: np.ndarray | None,
    voice_rate: int,
    prompt: str,
    style: str | None,
    duration: float,
    *,
    bed: np.ndarray | None = None,
) -> Soundtrack:
    """Voice (or None) over the style's bed (or none), normalised; exactly `duration` seconds.

    bed is the style's bed when it was made ahead (:func:`.music.music_bed` at MIX_RATE)."""
    total = round(duration * MIX_RATE)
    if style is None:
        bed = np.zeros(total, dtype=np.float32)
    elif bed is None:
        bed = music_bed(prompt, style, duration, MIX_RATE)
    bed_loudness = integrated_loudness(bed, MIX_RATE)
    if voice is None or not np.any(voice):
        return Soundtrack(normalise(bed, MIX_RATE), MIX_RATE, style)
    speech = to_rate(voice, voice_rate, MIX_RATE)
    speech = np.pad(speech[:total], (0, max(0, total - len(speech))))
    # Even out the syllables first (3:1 above the voice's own loudness), so its peaks stand less
    # far above its loudness and the limiter has less to do.
    speech = compress(speech, MIX_RATE, integrated_loudness(speech, MIX_RATE))
    speech = normalise(speech, MIX_RATE, VOICE_LUFS, release=VOICE_LIMITER_RELEASE)
    mixed, speaking = speech, 1.0
    if math.isfinite(bed_loudness):
        ducking = duck_gain(speech, MIX_RATE)
        unit_bed = bed * ducking * 10 ** (-bed_loudness / 20)  # at 0 LUFS before ducking
        speaking = float(np.mean(ducking < 10 ** (DUCK_DB / 2 / 20)))  # share of time ducked
        level = _solve_bed_level(speech, unit_bed, integrated_loudness(speech, MIX_RATE), speaking)
        mixed = speech + unit_bed * np.float32(10 ** (level / 20))
    push = FINAL_PUSH_DB[0] + _sparseness(speaking) * (FINAL_PUSH_DB[1] - FINAL_PUSH_DB[0])
    final = normalise(mixed.astype(np.float32), MIX_RATE, max_push_db=push)
    return Soundtrack(final, MIX_RATE, style)


def _sparseness(speaking: float) -> float:
    """0 when the voice speaks SPEECH_SHARE_FOR_LOWEST_BED of the time or more, 1 without it."""
    return 1.0 - min(1.0, speaking / SPEECH_SHARE_FOR_LOWEST_BED)


def _solve_bed_level(
    speech: np.ndarray, unit_bed: np.ndarray, voice_lufs: float, speaking: float
) -> float:
    """The bed's loudness (LUFS, unducked) at which speech + bed reaches TARGET_LUFS, in its
    range under the voice (the top set by the share of time `speaking`): a few secant steps on
    the measured loudness of the sum, which rises monotonically with the bed. K-weighting is
    linear, so both tracks are weighted once and each step only sums and gates."""
    top = BED_UNDER_VOICE_DB[1] + _sparseness(speaking) * (
        BED_ALONE_UNDER_VOICE_DB - BED_UNDER_VOICE_DB[1]
    )
    low, high = voice_lufs + BED_UNDER_VOICE_DB[0], voice_lufs + top

    weighted_speech, weighted_bed = k_weighted(speech, MIX_RATE), k_weighted(unit_bed, MIX_RATE)

    def short_of_target(level: float) -> float:
        mixed = weighted_speech + weighted_bed * 10 ** (level / 20)
        return TARGET_LUFS - gated_loudness(mixed, MIX_RATE)

    level = voice_lufs - 6.0
    miss = short_of_target(level)
    step = 3.0 if miss > 0 else -3.0
    for _ in range(BED_SOLVE_STEPS):
        if abs(miss) < 0.1:
            break
        following = min(high, max(low, level + step))
        if following == level:
            break  # at the edge of the range: the final pass does the rest
        following_miss = short_of_target(following)
        slope = (miss - following_miss) / (following - level)
        step = following_miss / slope if slope > 1e-3 else 3.0 * np.sign(following_miss)
        level, miss = following, following_miss
    return level
