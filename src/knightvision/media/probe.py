"""What a media file really is, read with PyAV (FFmpeg's demuxers), not trusted from its producer.

Everything is measured as a player shows it: times from the container's start (a stream that
starts late keeps its offset), the duration up to the end of the longest stream (a cover frame
over a voice-over lasts as long as the voice), the display size after the sample aspect ratio
(non-square pixels) and the rotation tag. One demux pass (no decoding) finds where each stream
really ends, so a file cut short reads shorter than it says (``truncated``) and a live recording
that states no duration still gets one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

__all__ = ["MediaInfo", "NotAVideo", "display_size", "probe", "seconds", "video_stream"]

#: Demuxers that read single pictures (a PNG renamed ``.mp4`` opens with one of these).
STILL_IMAGE_FORMATS = frozenset({"image2", "image2pipe"})
#: A file is ``truncated`` when its streams end this much before its stated duration.
TRUNCATED_MIN_S = 0.5
TRUNCATED_MIN_SHARE = 0.02


class NotAVideo(ValueError):
    """Not a video at all: a still image, no video stream, no frame, no duration. Deterministic:
    trying again cannot help."""


@dataclass(frozen=True)
class MediaInfo:
    """``duration``: what plays (the longest stream's end); ``stated_duration``: what the
    container says (None when it says nothing). Times are seconds from the container's start."""

    duration: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    size_bytes: int
    fps: float = 0.0  # average frame rate; 0 when the container does not say
    audio_sample_rate: int = 0
    audio_channels: int = 0
    stated_duration: float | None = None
    start_s: float = 0.0  # the container's start time in stream time (subtract from frame times)
    video_start_s: float = 0.0
    audio_start_s: float | None = None
    coded_width: int = 0
    coded_height: int = 0
    sample_aspect_ratio: str | None = None  # "4:3" for non-square pixels, None for square ones
    rotation: int = 0
    container_format: str = ""
    demux_errors: int = 0

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def truncated(self) -> bool:
        """The file ends well before the duration it states (a download cut short)."""
        if self.stated_duration is None:
            return False
        missing = self.stated_duration - self.duration
        return missing > max(TRUNCATED_MIN_S, TRUNCATED_MIN_SHARE * self.stated_duration)


def seconds(timestamp: int | None, time_base: Fraction | None) -> float | None:
    """A stream timestamp in seconds; None where the container leaves either part out."""
    if timestamp is None or time_base is None:
        return None
    return float(timestamp * time_base)


def video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The first real video stream (cover art attached to an audio file is not one);
    raises ``NotAVideo`` for still images and files without video."""
    if container.format.name in STILL_IMAGE_FORMATS or container.format.name.endswith("_pipe"):
        raise NotAVideo(f"a still image ({container.format.name})")
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise NotAVideo("no video stream")


def display_size(width: int, height: int, sar: Fraction | None, rotation: int) -> tuple[int, int]:
    """The size a player shows: width stretched by the sample aspect ratio (height kept, as
    FFmpeg's players do), then turned by the rotation tag."""
    if sar and sar > 0 and sar != 1:
        width = max(1, round(width * sar))
    return (height, width) if (rotation // 90) % 2 else (width, height)


def probe(path: Path) -> MediaInfo:
    """Raises ``NotAVideo`` for anything a player would not play as a video."""
    try:
        return _probe(path)
    except OSError:  # a missing or unreadable file is no verdict on its contents
        raise
    except av.FFmpegError as exc:  # FFmpeg's probing rejects garbage with these
        raise NotAVideo(f"unreadable media ({exc})") from exc


def _probe(path: Path) -> MediaInfo:
    with av.open(str(path)) as container:
        video = video_stream(container)
        audio = container.streams.audio[0] if container.streams.audio else None
        start = container.start_time / av.time_base if container.start_time is not None else 0.0
        stated = container.duration / av.time_base if container.duration else None
        ends, starts, errors, rotation = _stream_extents(
            container, video, [s for s in (video, audio) if s]
        )
        if video.index not in ends:
            raise NotAVideo("no video frame")
        played = max(ends.values()) - start
        duration = played if played > 0 else stated
        if duration is None or duration <= 0:
            raise NotAVideo("no duration")
        sar = video.sample_aspect_ratio or video.codec_context.sample_aspect_ratio
        coded_w, coded_h = video.codec_context.width, video.codec_context.height
        width, height = display_size(coded_w, coded_h, sar, rotation)
        rate = video.average_rate or video.guessed_rate
        return MediaInfo(
            duration=duration,
            width=width,
            height=height,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            size_bytes=path.stat().st_size,
            fps=float(rate) if rate else 0.0,
            audio_sample_rate=audio.codec_context.sample_rate if audio else 0,
            audio_channels=audio.codec_context.channels if audio else 0,
            stated_duration=stated,
            start_s=start,
            video_start_s=max(0.0, starts[video.index] - start),
            audio_start_s=max(0.0, starts[audio.index] - start)
            if audio and audio.index in starts
            else None,
            coded_width=coded_w,
            coded_height=coded_h,
            sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}"
            if sar and sar > 0 and sar != 1
            else None,
            rotation=rotation,
            container_format=container.format.name,
            demux_errors=errors,
        )


def _stream_extents(
    container: av.container.InputContainer,
    video: av.video.stream.VideoStream,
    streams: list[av.stream.Stream],
) -> tuple[dict[int, float], dict[int, float], int, int]:
    """Per stream index: where its first packet starts and its last one ends (seconds, stream
    time), from a demux pass; how many read errors ended that pass early; and the rotation tag of
    the first video frame (the only frame decoded)."""
    ends: dict[int, float] = {}
    starts: dict[int, float] = {}
    errors = 0
    rotation: int | None = None
    packets = container.demux(*streams)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.FFmpegError:  # a corrupt tail: what was read so far is what plays
            errors += 1
            break
        if rotation is None and packet.stream.index == video.index:
            try:
                frames = packet.decode()
            except av.FFmpegError:
                frames = []
            if frames:
                rotation = int(getattr(frames[0], "rotation", 0) or 0)
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None or packet.time_base is None:
            continue
        begin = float(stamp * packet.time_base)
        end = begin + float((packet.duration or 0) * packet.time_base)
        index = packet.stream.index
        starts[index] = min(starts.get(index, begin), begin)
        ends[index] = max(ends.get(index, end), end)
    return ends, starts, errors, rotation or 0
