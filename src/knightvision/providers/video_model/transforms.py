"""Declared transforms (D15): turn an upstream's native render into exactly the shape asked for.

``conform`` centre-crops to the target aspect ratio, scales to the exact WxH and trims to the exact
duration, re-encoding the picture with PyAV (H.264, yuv420p) and copying the audio packets that
fall inside the kept span. It never pads, stretches or upscales: a render shorter than asked for,
one whose aspect ratio is not what was planned, or one below the resolution asked for (a 640x360
render for a 1280x720 job), is a wrong shape, not something to paper over.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av

from knightvision.kit.errors import ProviderError
from knightvision.media.probe import MediaInfo, NotAVideo, probe, seconds

# How far a delivered render may be from the requested duration before it is trimmed: the job
# verifies ±0.1 s, so anything past half of that is cut rather than risked.
TRIM_TOLERANCE = 0.05
SHORT_TOLERANCE = 0.1
# Aspect ratios closer than this are the same frame (no crop, only a scale).
ASPECT_TOLERANCE = 0.005
# A frame this much smaller than asked for is an upstream's rounding of the same resolution (say
# 1248x704 for "720p") and is scaled; anything smaller is a lower resolution and is refused.
UPSCALE_TOLERANCE = 0.05
X264_OPTIONS = {"preset": "veryfast", "crf": "20"}


class ShapeError(ProviderError):
    """The source cannot become the requested shape by the declared transforms."""

    def __init__(self, message: str) -> None:
        super().__init__("render_unshapeable", message)


@dataclass(frozen=True)
class Crop:
    width: int
    height: int
    x: int
    y: int


def same_aspect(
    width_a: int, height_a: int, width_b: int, height_b: int, tolerance: float = ASPECT_TOLERANCE
) -> bool:
    return abs((width_a / height_a) / (width_b / height_b) - 1.0) <= tolerance


def centre_crop(width: int, height: int, target_width: int, target_height: int) -> Crop | None:
    """The largest centred window of the target's aspect ratio, or None if already that aspect."""
    if same_aspect(width, height, target_width, target_height):
        return None
    target = target_width / target_height
    if width / height > target:  # too wide: cut the sides
        crop_w, crop_h = _even(height * target), _even(height)
    else:  # too tall: cut top and bottom
        crop_w, crop_h = _even(width), _even(width / target)
    return Crop(crop_w, crop_h, (width - crop_w) // 2 // 2 * 2, (height - crop_h) // 2 // 2 * 2)


def conform(src: Path, dst: Path, *, width: int, height: int, duration: float) -> list[str]:
    """Write ``src`` as exactly ``width``x``height`` and ``duration`` seconds to ``dst``.

    Returns the transforms applied, human-readable, for provenance (empty when the source was
    already the right shape and was moved as is). Raises ShapeError for a source that is too
    short or cannot be read.
    """
    try:
        info = probe(src)
    except (av.FFmpegError, NotAVideo, ZeroDivisionError) as exc:
        raise ShapeError(f"not a readable video ({type(exc).__name__})") from exc
    if info.duration < duration - SHORT_TOLERANCE:
        raise ShapeError(
            f"render is {info.duration:.2f} s, shorter than the {duration} s asked for"
        )

    crop = centre_crop(info.width, info.height, width, height)
    framed = (crop.width, crop.height) if crop else (info.width, info.height)
    if width > framed[0] * (1 + UPSCALE_TOLERANCE) or height > framed[1] * (1 + UPSCALE_TOLERANCE):
        raise ShapeError(
            f"render is {info.width}x{info.height}, below the {width}x{height} asked for"
            " (never upscaled)"
        )
    scale = framed != (width, height)
    trim = info.duration > duration + TRIM_TOLERANCE

    applied: list[str] = []
    if crop:
        applied.append(f"crop {info.width}x{info.height} to centre {crop.width}x{crop.height}")
    if scale:
        applied.append(f"scale {framed[0]}x{framed[1]} to {width}x{height}")
    if trim:
        applied.append(f"trim {info.duration:.2f} s to {duration} s")
    if not applied:
        shutil.move(str(src), str(dst))
        return []
    try:
        _reencode(
            src,
            dst,
            info,
            crop,
            (width, height) if scale else None,
            float(duration) if trim else None,
        )
    except av.FFmpegError as exc:
        raise ShapeError(f"could not transform the render ({exc})") from exc
    return applied


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _reencode(
    src: Path,
    dst: Path,
    info: MediaInfo,
    crop: Crop | None,
    size: tuple[int, int] | None,
    until: float | None,
) -> None:
    out_w, out_h = size or ((crop.width, crop.height) if crop else (info.width, info.height))
    with (
        av.open(str(src)) as source,
        av.open(
            str(dst), "w", format="mp4", container_options={"movflags": "+faststart"}
        ) as target,
    ):
        vin = source.streams.video[0]
        ain = source.streams.audio[0] if source.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        vout = target.add_stream("libx264", rate=rate, options=X264_OPTIONS)
        vout.width, vout.height, vout.pix_fmt = out_w, out_h, "yuv420p"
        if vin.time_base is not None:
            vout.codec_context.time_base = vin.time_base
        aout = target.add_stream_from_template(ain) if ain is not None else None

        graph = av.filter.Graph()
        chain = [graph.add_buffer(template=vin)]
        if crop:
            chain.append(graph.add("crop", f"{crop.width}:{crop.height}:{crop.x}:{crop.y}"))
        if size:
            chain.append(graph.add("scale", f"{out_w}:{out_h}:flags=bicubic"))
        chain.append(graph.add("setsar", "1"))
        chain.append(graph.add("format", "yuv420p"))
        chain.append(graph.add("buffersink"))
        for upstream, downstream in pairwise(chain):
            upstream.link_to(downstream)
        graph.configure()

        def drain() -> None:
            while True:
                try:
                    frame = graph.vpull()
                except (av.BlockingIOError, av.EOFError):
                    return
                frame.pict_type = av.video.frame.PictureType.NONE
                target.mux(vout.encode(frame))

        # Times are measured from each stream's own start (an edit list may shift it off zero).
        video_start = seconds(vin.start_time, vin.time_base) or 0.0
        audio_start = (seconds(ain.start_time, ain.time_base) if ain is not None else None) or 0.0
        streams = [vin] + ([ain] if ain is not None else [])
        for packet in source.demux(*streams):
            if packet.stream.type == "audio":
                if packet.dts is None or aout is None:
                    continue
                if until is not None and packet.pts is not None:
                    end = (
                        float((packet.pts + (packet.duration or 0)) * packet.time_base)
                        - audio_start
                    )
                    if end > until + 1e-3:  # whole packets only, ending inside the kept span
                        continue
                packet.stream = aout
                target.mux(packet)
                continue
            for frame in packet.decode():
                assert isinstance(frame, av.VideoFrame)  # demuxed from the video stream
                if (
                    until is not None
                    and frame.time is not None
                    and frame.time - video_start >= until - 1e-6
                ):
                    continue
                graph.vpush(frame)
                drain()
        graph.vpush(None)
        drain()
        target.mux(vout.encode(None))
