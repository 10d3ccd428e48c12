"""Decoding the sampled frames again for OCR and face detection.

The frames stage chose the samples: one keyframe per shot (mid-shot) plus one every
``frames.sample_interval_s`` (1 s; longer videos get at most 120 samples). They are decoded here
once, sequentially, and scaled to at most 960 px on the long side. Text or faces that appear only
between two samples can be missed.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from knightvision.media.frames import rotate_image

OCR_MAX_SIDE = 960


def decode_at(video: Path, times: list[float], rotation: int) -> list[np.ndarray | None]:
    """BGR images (long side <= OCR_MAX_SIDE) of the frames at ``times`` (frame times from the
    frames stage, measured from the first frame), in one sequential decode."""
    images: list[np.ndarray | None] = [None] * len(times)
    if not times:
        return images
    reformatter = VideoReformatter()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        tolerance = 0.5 / fps
        wanted = 0
        first: float | None = None
        index = -1
        for frame in container.decode(stream):
            index += 1
            raw = float(frame.time) if frame.time is not None else index / fps
            if first is None:
                first = raw
            seconds = max(0.0, raw - first)  # as in the frames stage
            image = None
            while wanted < len(times) and seconds >= times[wanted] - tolerance:
                # the frame at that time (the frames stage picked it from the same decode), or the
                # next one should timestamps disagree
                image = (
                    image
                    if image is not None
                    else rotate_image(_scaled(reformatter, frame), rotation)
                )
                images[wanted] = image
                wanted += 1
            if wanted >= len(times):
                break
    return images


def _scaled(reformatter: VideoReformatter, frame: av.VideoFrame) -> np.ndarray:
    scale = min(1.0, OCR_MAX_SIDE / max(frame.width, frame.height))
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    image = reformatter.reformat(
        frame, width, height, "bgr24", interpolation="AREA", threads=1
    ).to_ndarray()
    # PyAV returns a strided view of the padded frame buffer; OCR on such views was measured to
    # grow memory by ~5 MB a frame (copies inside), so hand it one compact array instead.
    return np.ascontiguousarray(image)
