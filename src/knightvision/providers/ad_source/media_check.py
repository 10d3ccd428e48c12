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
    """The file is not a playable video: no decodable video stream, a still picture (also one
    renamed ``.mp4``, or a single silent frame), no duration."""


def check_video(path: Path) -> VideoFacts:
    """Open ``path``, decode its first video frame, and report its duration (the longest
    stream's, as a player shows it); raises ``NotAVideo``."""
    import av  # here, so that validating URLs in the API process does not load FFmpeg

    from knightvision.media import probe

    try:
        info = probe.probe(path)  # refuses still images (a picture renamed .mp4), no video
        with av.open(str(path)) as container:
            stream = probe.video_stream(container)
            if next(container.decode(stream), None) is None:
                raise NotAVideo("no decodable video frame")
        if not info.has_audio and _frames(path) < MIN_FRAMES:
            raise NotAVideo("a single picture without sound, not a video")
        return VideoFacts(duration=info.duration, has_audio=info.has_audio)
    except probe.NotAVideo as exc:
        raise NotAVideo(str(exc)) from exc
    except (av.FFmpegError, OSError) as exc:  # FFmpeg's demuxers reject garbage with these
        raise NotAVideo(str(exc)) from exc


#: A silent video shows at least this many frames (a cover frame over a voice-over is one frame
#: but plays for the voice's duration: a video).
MIN_FRAMES = 2


def _frames(path: Path) -> int:
    """Video frames (packets) in the file, up to ``MIN_FRAMES``."""
    import av

    from knightvision.media.probe import video_stream

    count = 0
    with av.open(str(path)) as container:
        for packet in container.demux(video_stream(container)):
            count += packet.size > 0
            if count >= MIN_FRAMES:
                break
    return count
