"""Audio: integrated loudness (ITU-R BS.1770 via pyloudnorm, source channels up to stereo),
``silence_ratio``, the share of 100 ms windows whose RMS is below -45 dBFS (mono mix), the sample
peak (``audio_peak_dbfs``) and ``clipping_ratio``, the share of samples at full scale (a
distorted, clipped mix). Damaged packets are skipped as a player skips them and counted
(``decode_errors``)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from knightvision.media.decode import DecodeLog, decode_tolerantly

SILENCE_DBFS = -45.0
SILENCE_WINDOW_S = 0.1
#: A sample this close to full scale (-0.01 dBFS) is clipped.
CLIP_LEVEL = 0.999


def audio_facts(video: Path) -> dict[str, Any]:
    """Levels, plus ``warning`` (a ``decode_errors`` warning, or None) and ``seconds``."""
    started = time.perf_counter()
    log = DecodeLog("audio")
    samples, rate = decode_audio(video, log)
    return {
        **audio_levels(samples, rate),
        "warning": log.warning(),
        "seconds": time.perf_counter() - started,
    }


def decode_audio(path: Path, log: DecodeLog | None = None) -> tuple[np.ndarray, int]:
    """First audio track as float32 ``(samples, channels)`` (mono or stereo) and its sample rate;
    damaged packets are skipped (counted in ``log``)."""
    log = log or DecodeLog("audio")
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = 2 if (stream.codec_context.channels or 1) >= 2 else 1
        rate = stream.codec_context.sample_rate or 48000
        if not 8000 <= rate <= 48000:
            rate = 48000
        resampler = av.AudioResampler(
            format="fltp", layout="stereo" if channels == 2 else "mono", rate=rate
        )
        chunks = []
        for frame in decode_tolerantly(container, stream, log):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        return np.zeros((0, channels), np.float32), rate
    return np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False), rate


def audio_levels(samples: np.ndarray, rate: int) -> dict[str, float | None]:
    """Integrated loudness (LUFS), the share of 100 ms windows below -45 dBFS RMS, the sample
    peak (dBFS) and the share of clipped samples."""
    import pyloudnorm

    if samples.ndim == 1:
        samples = samples[:, None]
    loudness: float | None = None
    if len(samples) >= int(0.4 * rate):  # BS.1770 gating blocks are 400 ms
        value = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
        loudness = round(value, 2) if math.isfinite(value) else None
    peaks = peak_facts(samples)
    mono = samples.mean(axis=1)
    window = max(1, round(SILENCE_WINDOW_S * rate))
    count = len(mono) // window
    if len(mono) - count * window >= window // 2:
        mono = np.concatenate([mono, np.zeros(window - (len(mono) - count * window), mono.dtype)])
        count += 1
    if count == 0:
        return {"loudness_lufs": loudness, "silence_ratio": None, **peaks}
    blocks = mono[: count * window].reshape(count, window).astype(np.float64)
    rms = np.sqrt((blocks**2).mean(axis=1))
    dbfs = 20 * np.log10(np.maximum(rms, 1e-10))
    return {
        "loudness_lufs": loudness,
        "silence_ratio": round(float((dbfs < SILENCE_DBFS).mean()), 3),
        **peaks,
    }


def peak_facts(samples: np.ndarray) -> dict[str, float | None]:
    """``audio_peak_dbfs`` (highest sample, any channel; None for no sound at all) and
    ``clipping_ratio`` (share of sample instants with a channel at full scale)."""
    if not samples.size:
        return {"audio_peak_dbfs": None, "clipping_ratio": None}
    magnitude = np.abs(samples)
    peak = float(magnitude.max())
    return {
        "audio_peak_dbfs": round(20 * math.log10(peak), 2) if peak > 0 else None,
        "clipping_ratio": round(float((magnitude.max(axis=1) >= CLIP_LEVEL).mean()), 5),
    }
