"""The clips' old import path, kept while the analysis tests still import it: the clips live in
``tests.fixtures.clips``."""

from tests.fixtures.clips import (
    AD_PROMPT,
    FaceClip,
    MeasuredAd,
    cuts_clip,
    face_clip,
    measured_ad,
    similar,
    tone,
    write_wav,
)

__all__ = [
    "AD_PROMPT",
    "FaceClip",
    "MeasuredAd",
    "cuts_clip",
    "face_clip",
    "measured_ad",
    "similar",
    "tone",
    "write_wav",
]
