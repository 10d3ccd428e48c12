"""Test media with known truth, made once per test session (renderer + PyAV, no downloads).

Every maker is cached for the session and writes into one temporary directory removed at exit,
so the media, transcription and analysis tests share the same clips.
"""

from __future__ import annotations

import atexit
import difflib
import functools
import importlib.util
import re
import shutil
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(tempfile.mkdtemp(prefix="kv-test-media-"))
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)

# ----------------------------------------------------------------------------- encoding


def similar(a: str, b: str) -> float:
    """How alike two texts read, word by word (OCR and speech are never letter-perfect)."""
    words = lambda text: re.findall(r"[a-z0-9]+", text.lower())  # noqa: E731
    return difflib.SequenceMatcher(None, words(a), words(b)).ratio()


def encode_clip(
    path: Path,
    draw: Callable[[int, float], np.ndarray],
    *,
    seconds: float,
    size: tuple[int, int] = (320, 240),
    fps: int = 30,
    audio: np.ndarray | None = None,
    audio_rate: int = 48_000,
) -> Path:
    """H.264 (+ AAC when ``audio`` is given, mono float32) MP4 of ``draw(index, t) -> RGB array``."""
    width, height = size
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=fps, options={"preset": "ultrafast", "crf": "18"}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=audio_rate, layout="mono")
            sound.bit_rate = 128_000
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(draw(index, index / fps), format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None and audio is not None:
            samples = np.asarray(audio, np.float32)
            step = 1024
            for start in range(0, len(samples), step):
                chunk = samples[start : start + step]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                frame.sample_rate = audio_rate
                frame.pts = start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def tone(
    seconds: float, amplitude: float, rate: int = 48_000, frequency: float = 997.0
) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


# ----------------------------------------------------------------------------- clips


@dataclass(frozen=True)
class CutsClip:
    path: Path
    duration: float
    hard_cuts: tuple[float, ...]
    gradual_cuts: tuple[float, ...]  # centres of the dissolves


@functools.cache
def cuts_clip() -> CutsClip:
    """8 s, 320x240, no audio: flat colours with a moving bar (motion, not cuts), hard cuts at
    1.5, 3.0 and 6.5 s and a 0.6 s dissolve centred on 4.8 s."""
    colours = [(200, 40, 40), (40, 60, 200), (30, 170, 60), (230, 200, 40), (120, 40, 160)]
    # segments: [0,1.5) red, [1.5,3.0) blue, [3.0,4.5) green, dissolve 4.5-5.1 to yellow, [6.5,8) purple
    rng = np.random.default_rng(7)
    grain = rng.integers(-6, 7, size=(240, 320, 1), dtype=np.int16)

    def base(t: float) -> np.ndarray:
        if t < 1.5:
            colour = colours[0]
        elif t < 3.0:
            colour = colours[1]
        elif t < 4.5:
            colour = colours[2]
        elif t < 5.1:
            a = (t - 4.5) / 0.6
            colour = tuple((1 - a) * np.array(colours[2]) + a * np.array(colours[3]))
        elif t < 6.5:
            colour = colours[3]
        else:
            colour = colours[4]
        return np.broadcast_to(np.array(colour, np.int16), (240, 320, 3))

    def draw(index: int, t: float) -> np.ndarray:
        image = base(t) + grain
        x = int(40 + 60 * t) % 280
        image = image.copy()
        image[100:140, x : x + 30] = 245  # a white bar gliding across
        return np.clip(image, 0, 255).astype(np.uint8)

    path = encode_clip(ROOT / "cuts.mp4", draw, seconds=8.0)
    return CutsClip(path, 8.0, (1.5, 3.0, 6.5), (4.8,))


def astronaut_rgb() -> np.ndarray | None:
    """The astronaut portrait shipped in scikit-image's wheel (a real face), or None if absent."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    if not path.is_file():
        return None
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


@dataclass(frozen=True)
class FaceClip:
    path: Path
    duration: float
    face_from: float


@functools.cache
def face_clip() -> FaceClip | None:
    """6 s, 360x640 portrait: a plain gradient for 3 s, then the astronaut photo; a 997 Hz tone at
    amplitude 0.1 (-23 LUFS) for the first 3 s, then digital silence."""
    portrait = astronaut_rgb()
    if portrait is None:
        return None
    from PIL import Image

    face = np.asarray(Image.fromarray(portrait).resize((360, 360)))
    gradient = np.linspace(30, 200, 640, dtype=np.float32)[:, None, None] * np.array(
        [0.4, 0.6, 1.0], np.float32
    )
    background = np.broadcast_to(gradient, (640, 360, 3)).astype(np.uint8)
    with_face = background.copy()
    with_face[140:500] = face

    def draw(index: int, t: float) -> np.ndarray:
        return with_face if t >= 3.0 else background

    audio = np.concatenate([tone(3.0, 0.1), np.zeros(3 * 48_000, np.float32)])
    path = encode_clip(ROOT / "face.mp4", draw, seconds=6.0, size=(360, 640), audio=audio)
    return FaceClip(path, 6.0, 3.0)


@dataclass(frozen=True)
class Scene:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class StoryboardAd:
    path: Path
    duration: float
    scenes: tuple[Scene, ...]
    speech_lead: float  # seconds after a scene starts before its speech does


AD_PROMPT = (
    "Tired of cold coffee? Meet the HeatMug smart mug. It keeps your drink hot all day. "
    "Order today and get free shipping."
)


@functools.cache
def storyboard_ad() -> StoryboardAd:
    """A 12 s 720x1280 ad from our renderer: one captioned scene per sentence (0.3 s cross-fades)
    and a piper voice-over of the same text."""
    from knightvision.render import RenderSpec, load_voice, render_storyboard
    from knightvision.render.speech import SPEECH_LEAD

    report = render_storyboard(
        RenderSpec(AD_PROMPT, 12, 720, 1280), ROOT / "ad.mp4", voice=load_voice()
    )
    scenes = tuple(Scene(s.text, s.start, s.end) for s in report.scenes)
    return StoryboardAd(report.path, report.duration, scenes, SPEECH_LEAD)


@functools.cache
def voice_wav(name: str) -> Path:
    """Piper speech as WAV: ``english`` (an ad line), ``finnish`` (Finnish text read by the English
    voice: Finnish-sounding speech an English-only model cannot transcribe) or ``reversed``
    (English speech played backwards: speech-like sound in no language)."""
    from knightvision.render import load_voice

    voice = load_voice()
    lines = {
        "english": "Order today and get free shipping. Thousands of busy parents already love this smart mug.",
        "finnish": "Hyvää huomenta. Tämä kahvikuppi pitää juomasi lämpimänä koko päivän. Tilaa tänään, toimitus on ilmainen.",
        "reversed": "Order today and get free shipping. Thousands of busy parents already love this smart mug.",
    }
    speech = voice.synthesize(lines[name])
    if name == "reversed":
        speech = speech[::-1].copy()
    lead = np.zeros(int(0.5 * voice.sample_rate), np.float32)  # speech starts at 0.5 s
    return write_wav(ROOT / f"{name}.wav", np.concatenate([lead, speech, lead]), voice.sample_rate)


@dataclass(frozen=True)
class MeasuredAd:
    ad: StoryboardAd
    frames: Any  # FrameSet
    transcript: Any  # Transcript
    metrics: dict[str, Any]


@functools.cache
def measured_ad() -> MeasuredAd:
    """The storyboard ad through frames, local transcription and metrics (the analysis stages)."""
    from knightvision.analysis.metrics import measure
    from knightvision.media.frames import extract_frames
    from knightvision.providers.transcription.local_whisper import (
        LocalWhisperTranscriber,
    )

    ad = storyboard_ad()
    frames = extract_frames(ad.path, ROOT / "ad-frames")
    transcript = LocalWhisperTranscriber().transcribe(ad.path)
    return MeasuredAd(ad, frames, transcript, measure(ad.path, frames, transcript))
