"""How open the presenter's mouth is on each frame: the voice track's loudness, frame by frame."""

from __future__ import annotations

import numpy as np

#: Below this fraction of the voice's typical loudness the mouth is closed (pauses, breaths).
SILENCE = 0.12


def mouth_openness(
    samples: np.ndarray, sample_rate: int, fps: int, total_frames: int
) -> np.ndarray:
    """Per frame, 0 (closed) .. 1 (wide open), from the RMS of the voice under that frame.

    Normalised by the loud end of the voiced frames, so a quiet voice still moves the mouth; a
    silent track gives all zeros.
    """
    openness = np.zeros(total_frames, dtype=np.float32)
    if samples.size == 0 or total_frames == 0:
        return openness
    edges = np.round(np.arange(total_frames + 1) * sample_rate / fps).astype(np.int64)
    edges = np.minimum(edges, samples.size)
    squared = np.concatenate(([0.0], np.cumsum(samples.astype(np.float64) ** 2)))
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt((squared[edges[1:]] - squared[edges[:-1]]) / counts)
    voiced = rms[rms > 1e-4]
    if voiced.size == 0:
        return openness
    loud = float(np.percentile(voiced, 90))
    level = np.clip(rms / loud, 0.0, 1.0)
    level[level < SILENCE] = 0.0
    # A mouth does not snap shut between syllables of one word: keep the louder of each frame
    # and the one before it.
    level[1:] = np.maximum(level[1:], 0.6 * level[:-1])
    result: np.ndarray = level.astype(np.float32)
    return result
