"""Faces (OpenCV Haar frontal-face cascade, min size 10% of the short side), on the sampled frames
scaled to 270 px on the short side; then each interval with a face refined to the frame
(:func:`face_intervals`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from knightvision.analysis.metrics.engines import face_cascade
from knightvision.analysis.metrics.frames import frames_in_spans

FACE_SHORT_SIDE = 270
FACE_MIN_FRACTION = 0.10
_FACE_LOCK = threading.Lock()  # a cascade is not documented as thread-safe


def has_face(image: np.ndarray) -> bool:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    short = min(gray.shape[:2])
    if short > FACE_SHORT_SIDE:
        scale = FACE_SHORT_SIDE / short
        gray = cv2.resize(
            gray,
            (round(gray.shape[1] * scale), round(gray.shape[0] * scale)),
            interpolation=cv2.INTER_AREA,
        )
        short = FACE_SHORT_SIDE
    gray = cv2.equalizeHist(gray)
    size = max(20, round(FACE_MIN_FRACTION * short))
    cascade = face_cascade()
    with _FACE_LOCK:
        faces = cascade.detectMultiScale(
            gray, scaleFactor=1.15, minNeighbors=5, minSize=(size, size)
        )
    return len(faces) > 0


def face_intervals(
    video: Path,
    times: list[float],
    flags: list[bool],
    duration: float,
    rotation: int,
    detect: Callable[[np.ndarray], bool] = has_face,
) -> list[dict[str, float]]:
    """When a face is on screen, to the frame: ``[{start_s, end_s}]``.

    The samples (``flags[i]``: a face at ``times[i]``) give each interval to within a sample
    interval; every boundary is then found among the frames decoded between the two samples
    around the change, by bisection (a face appears or leaves once between two samples, at a
    cut), so about log2(frames between samples) more detections per boundary."""
    runs: list[list[int]] = []
    for i, flag in enumerate(flags):
        if flag and runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        elif flag:
            runs.append([i, i])
    if not runs:
        return []
    spans: list[tuple[float, float]] = []
    for first, last in runs:
        if first > 0:
            spans.append((times[first - 1], times[first]))
        if last < len(times) - 1:
            spans.append((times[last], times[last + 1]))
    changes = {
        span: _first_change(frames, detect)
        for span, frames in zip(spans, frames_in_spans(video, spans, rotation), strict=True)
    }
    intervals = []
    for first, last in runs:
        start = changes[(times[first - 1], times[first])] if first > 0 else 0.0
        end = changes[(times[last], times[last + 1])] if last < len(times) - 1 else duration
        intervals.append({"start_s": round(start, 3), "end_s": round(end, 3)})
    return intervals


def _first_change(
    frames: list[tuple[float, np.ndarray]], detect: Callable[[np.ndarray], bool]
) -> float:
    """Time of the first frame whose face flag differs from the first frame's (the span's last
    frame is known to differ): bisection."""
    if len(frames) < 2:
        return frames[-1][0] if frames else 0.0
    before, after = 0, len(frames) - 1
    opening = detect(frames[0][1])
    while after - before > 1:
        middle = (before + after) // 2
        if detect(frames[middle][1]) == opening:
            before = middle
        else:
            after = middle
    return frames[after][0]
