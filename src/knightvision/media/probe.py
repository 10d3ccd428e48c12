"""What a media file really is, read with PyAV (FFmpeg's demuxers),
not trusted from its producer."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    size_bytes: int
    fps: float = 0.0  # average frame rate; 0 when the container does not say
    audio_sample_rate: int = 0
    audio_channels: int = 0

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def seconds(timestamp: int | None, time_base: Fraction | None) -> float | None:
    """A stream timestamp in seconds; None where the container leaves either part out."""
    if timestamp is None or time_base is None:
        return None
    return float(timestamp * time_base)


def probe(path: Path) -> MediaInfo:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        duration = (
            float(container.duration / av.time_base)
            if container.duration
            else seconds(video.duration, video.time_base)
        )
        if duration is None:
            raise ValueError(f"{path.name} states no duration")
        rate = video.average_rate or video.guessed_rate
        return MediaInfo(
            duration=duration,
            width=video.codec_context.width,
            height=video.codec_context.height,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            size_bytes=path.stat().st_size,
            fps=float(rate) if rate else 0.0,
            audio_sample_rate=audio.codec_context.sample_rate if audio else 0,
            audio_channels=audio.codec_context.channels if audio else 0,
        )
