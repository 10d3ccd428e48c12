"""Probe and decode helpers for renderer tests (PyAV, no mocks)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def probe(path: Path) -> dict:
    """Codec names, sizes and durations (seconds) of an MP4's streams."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "container_duration": container.duration / av.time_base,
            "video_codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": float(video.average_rate),
            "frames": video.frames,
            "video_duration": float(video.duration * video.time_base),
            "audio_codec": audio.codec_context.name if audio else None,
            "audio_rate": audio.codec_context.sample_rate if audio else None,
            "audio_duration": float(audio.duration * audio.time_base) if audio else None,
        }


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """All audio samples (mono float) and the sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray().mean(axis=0) for frame in container.decode(stream)]
        return np.concatenate(chunks), stream.codec_context.sample_rate


def decode_frames(path: Path, indices: set[int]) -> dict[int, np.ndarray]:
    """Selected frames (by index) as RGB arrays."""
    wanted: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in indices:
                wanted[index] = frame.to_ndarray(format="rgb24")
            if len(wanted) == len(indices):
                break
    return wanted


def decode_luma(path: Path) -> list[np.ndarray]:
    """Every frame's Y plane (cheap way to compare frames over time)."""
    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="gray").astype(np.int16) for frame in container.decode(video=0)
        ]
