"""Is this file really a playable video? Read with PyAV, never trusted from the site
or the operator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VideoFacts:
    duration: float | None
    has_audio: bool


class NotAVideo(ValueError):
    """The file has no decodable video stream."""


def check_video(path: Path) -> VideoFacts:
    """Open ``path``, decode its first video frame, and report its duration;
    raises ``NotAVideo``."""
    import av  # here, so that validating URLs in the API process does not load FFmpeg

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise NotAVideo("no video stream")
            stream = container.streams.video[0]
            if next(container.decode(stream), None) is None:
                raise NotAVideo("no decodable video frame")
            if container.duration:
                duration: float | None = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = None
            return VideoFacts(duration=duration, has_audio=bool(container.streams.audio))
    except (av.FFmpegError, OSError) as exc:  # FFmpeg's demuxers reject garbage with these
        raise NotAVideo(str(exc)) from exc
