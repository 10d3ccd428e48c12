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
    around the change (or between the first sample and the start, the last one and the end), by
    bisection: a face appears or leaves once between two samples, at a cut, so about
    log2(frames between samples) more detections per boundary."""
    runs: list[list[int]] = []
    for i, flag in enumerate(flags):
        if flag and runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        elif flag:
            runs.append([i, i])
    if not runs:
        return []
    edges = [0.0, *times, duration]  # sample i sits at edges[i + 1]
    spans: list[tuple[float, float]] = []
    for first, last in runs:
        spans += [(edges[first], edges[first + 1]), (edges[last + 1], edges[last + 2])]
    spans = sorted({span for span in spans if span[1] - span[0] > 1e-3})
    changes = {
        span: _change(frames, detect)
        for span, frames in zip(spans, frames_in_spans(video, spans, rotation), strict=True)
    }
    intervals = []
    for first, last in runs:
        # a change before the first face sample is where the face appears (else it was there
        # from the start); one after the last face sample is where it leaves (else: to the end)
        opening = changes.get((edges[first], edges[first + 1]))
        closing = changes.get((edges[last + 1], edges[last + 2]))
        start = opening if opening is not None else edges[first]
        if first > 0 and opening is None:
            start = edges[first + 1]
        end = closing if closing is not None else edges[last + 2]
        intervals.append({"start_s": round(start, 3), "end_s": round(end, 3)})
    return intervals


def _change(
    frames: list[tuple[float, np.ndarray]], detect: Callable[[np.ndarray], bool]
) -> float | None:
    """Time of the first frame whose face flag differs from the first frame's, by bisection
    (one change at most in the span); None when the last frame still agrees with the first."""
    if len(frames) < 2:
        return None
    opening = detect(frames[0][1])
    if detect(frames[-1][1]) == opening:
        return None
    before, after = 0, len(frames) - 1
    while after - before > 1:
        middle = (before + after) // 2
        if detect(frames[middle][1]) == opening:
            before = middle
        else:
            after = middle
    return frames[after][0]
