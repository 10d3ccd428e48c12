"""Real small MP4 files for fake upstreams to serve: H.264 + AAC, made with PyAV, cached per
process."""

from __future__ import annotations

import tempfile
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FPS = 2  # a low frame rate keeps encoding cheap; whole seconds stay exact frame counts
_AUDIO_RATE = 16_000
_cache_dir = Path(tempfile.mkdtemp(prefix="kv-fake-media-"))
_lock = threading.Lock()


def make_mp4(
    path: Path, width: int, height: int, seconds: float, *, fps: int = FPS, audio: bool = True
) -> Path:
    """Write an MP4 of exactly ``width``x``height`` and ``seconds``: a moving gradient and a
    tone."""
    frames = round(seconds * fps)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=fps, options={"preset": "ultrafast", "crf": "30"}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        sound = container.add_stream("aac", rate=_AUDIO_RATE, layout="mono") if audio else None
        ramp = (np.arange(width, dtype=np.uint16)[None, :] * 255 // max(1, width - 1)).astype(
            np.uint8
        )
        for index in range(frames):
            rgb = np.empty((height, width, 3), dtype=np.uint8)
            rgb[..., 0] = ramp
            rgb[..., 1] = (index * 37) % 256
            rgb[..., 2] = np.arange(height, dtype=np.uint16)[:, None] * 255 // max(1, height - 1)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            total = round(frames / fps * _AUDIO_RATE)
            t = np.arange(total, dtype=np.float32) / _AUDIO_RATE
            samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            step = 1024
            for start in range(0, total, step):
                chunk = samples[start : start + step]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                frame.sample_rate = _AUDIO_RATE
                frame.time_base = Fraction(1, _AUDIO_RATE)
                frame.pts = start
                container.mux(sound.encode(frame))
            container.mux(sound.encode(None))
    return path


def sample_mp4(width: int, height: int, seconds: float, *, audio: bool = True) -> Path:
    """A cached sample file of that shape (made once per process)."""
    path = _cache_dir / f"{width}x{height}_{seconds:g}s{'_a' if audio else ''}.mp4"
    with _lock:
        if not path.exists():
            partial = path.with_suffix(".part.mp4")
            make_mp4(partial, width, height, seconds, audio=audio)
            partial.rename(path)
    return path
