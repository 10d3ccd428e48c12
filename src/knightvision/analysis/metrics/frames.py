"""Decoding the sampled frames again for OCR and face detection.

The frames stage chose the samples: one keyframe per shot (mid-shot) plus one every
``frames.sample_interval_s`` (1 s; longer videos get at most 120 samples). They are decoded here
once, sequentially, and scaled to at most 960 px on the long side, at the display aspect (non-square
pixels stretched as a player shows them). A sample is the frame whose own timestamp is the sample's
time (measured from the container's start, as in the frames stage): with a variable frame rate the
frame just before a cut can be closer than half a nominal frame interval, so no tolerance beyond
the millisecond the times are rounded to. Text or faces that appear only between two samples can
be missed (faces are refined between samples, see :mod:`.faces`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from knightvision.media.decode import DecodeLog, decode_tolerantly
from knightvision.media.frames import rotate_image
from knightvision.media.probe import display_size, probe, video_stream

OCR_MAX_SIDE = 960
#: Sample times are rounded to the millisecond.
TIME_TOLERANCE_S = 0.0006


def decode_at(video: Path, times: list[float], rotation: int) -> list[np.ndarray | None]:
    """BGR images (long side <= OCR_MAX_SIDE) of the frames at ``times`` (frame times from the
    frames stage, seconds from the container's start), in one sequential decode."""
    images: list[np.ndarray | None] = [None] * len(times)
    if not times:
        return images
    wanted = 0
    for seconds, image in _frames(video, rotation):
        picture = None
        while wanted < len(times) and seconds >= times[wanted] - TIME_TOLERANCE_S:
            # the frame at that time (the frames stage picked it from the same decode), or the
            # next one should a frame have been lost
            picture = picture if picture is not None else image()
            images[wanted] = picture
            wanted += 1
        if wanted >= len(times):
            break
    return images


def decode_span(
    video: Path, start: float, end: float, rotation: int
) -> list[tuple[float, np.ndarray]]:
    """Every frame shown from ``start`` to ``end`` (seconds from the container's start), as
    ``(time, BGR image)``: the frame on screen at ``start`` first."""
    shown: list[tuple[float, Callable[[], np.ndarray]]] = []
    for seconds, image in _frames(video, rotation):
        if seconds > end + TIME_TOLERANCE_S:
            break
        if seconds <= start + TIME_TOLERANCE_S:
            shown = [(seconds, image)]  # only the latest frame at or before the start
        else:
            shown.append((seconds, image))
    return [(seconds, image()) for seconds, image in shown]


def _frames(video: Path, rotation: int) -> Iterator[tuple[float, Callable[[], np.ndarray]]]:
    """Each decoded frame's time (seconds from the container's start) and a way to picture it
    (scaled only when asked, so passing over a frame costs no conversion)."""
    info = probe(video)
    stretch = None
    if info.sample_aspect_ratio:
        num, _, den = info.sample_aspect_ratio.partition(":")
        stretch = Fraction(int(num), int(den))
    reformatter = VideoReformatter()
    with av.open(str(video)) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        fps = info.fps or 30.0
        for index, frame in enumerate(decode_tolerantly(container, stream, DecodeLog("video"))):
            raw = float(frame.time) if frame.time is not None else index / fps + info.start_s
            yield (
                max(0.0, raw - info.start_s),
                functools.partial(_picture, reformatter, frame, stretch, rotation),
            )


def _picture(
    reformatter: VideoReformatter, frame: av.VideoFrame, stretch: Fraction | None, rotation: int
) -> np.ndarray:
    return rotate_image(_scaled(reformatter, frame, stretch), rotation)


def _scaled(
    reformatter: VideoReformatter, frame: av.VideoFrame, stretch: Fraction | None = None
) -> np.ndarray:
    shown_w, shown_h = display_size(frame.width, frame.height, stretch, 0)
    scale = min(1.0, OCR_MAX_SIDE / max(shown_w, shown_h))
    width = max(2, round(shown_w * scale / 2) * 2)
    height = max(2, round(shown_h * scale / 2) * 2)
    image = reformatter.reformat(
        frame, width, height, "bgr24", interpolation="AREA", threads=1
    ).to_ndarray()
    # PyAV returns a strided view of the padded frame buffer; OCR on such views was measured to
    # grow memory by ~5 MB a frame (copies inside), so hand it one compact array instead.
    return np.ascontiguousarray(image)


def frames_in_spans(
    video: Path, spans: list[tuple[float, float]], rotation: int
) -> Iterator[list[tuple[float, np.ndarray]]]:
    """For each ``(start, end)`` of ``spans`` (ascending, seconds from the container's start): the
    frames shown over it as ``(time, BGR image)``, scaled as :func:`decode_at` scales them, the
    frame on screen at ``start`` first. One decode pass; each span is handed over as soon as it is
    complete (and then dropped), so only one span's frames are held at a time."""
    if not spans:
        return
    current = 0
    held: list[tuple[float, np.ndarray]] = []
    previous: tuple[float, Callable[[], np.ndarray]] | None = None
    for seconds, image in _frames(video, rotation):
        while current < len(spans) and seconds > spans[current][1] + TIME_TOLERANCE_S:
            yield held
            held, current = [], current + 1
        if current >= len(spans):
            return
        start = spans[current][0]
        if seconds > start + TIME_TOLERANCE_S:
            if not held and previous is not None and previous[0] <= start + TIME_TOLERANCE_S:
                held.append((previous[0], previous[1]()))  # the frame on screen at the start
            held.append((seconds, image()))
        previous = (seconds, image)
    while current < len(spans):  # the video ended inside (or before) the remaining spans
        yield held
        held, current = [], current + 1
