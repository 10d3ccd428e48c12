"""Faces (OpenCV Haar frontal-face cascade, min size 10% of the short side), on the sampled frames
scaled to 270 px on the short side."""

from __future__ import annotations

import threading

import cv2
import numpy as np

from knightvision.analysis.metrics.engines import face_cascade

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
