"""`local-storyboard`: an offline prompt -> captioned, voiced MP4 renderer.

A pure library used by the video worker: plan scenes from the prompt
(:mod:`.storyboard`), draw them (:mod:`.frames`), speak them (:mod:`.speech`)
and mux H.264 + AAC (:mod:`.encode`). Character videos are a presenter figure
built from the prompt (:mod:`.presenter`). Three threads overlap: speech synthesis,
frame composition and encoding, all CPU-bound in native code that releases
the GIL. Design and measurements: docs/adr/0002-renderer.md.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .encode import Mp4Writer
from .frames import FrameComposer
from .presenter import (
    PresenterLook,
    PresenterReport,
    PresenterSpec,
    presenter_look,
    render_presenter,
)
from .speech import SpeechTrack, Voice, load_voice, silent_track, synthesize_track
from .storyboard import Scene, plan_scenes

__all__ = [
    "SUPPORTED_SIZES",
    "PresenterLook",
    "PresenterReport",
    "PresenterSpec",
    "RenderReport",
    "RenderSpec",
    "Scene",
    "Voice",
    "load_voice",
    "plan_scenes",
    "presenter_look",
    "render_presenter",
    "render_storyboard",
]

SUPPORTED_SIZES = frozenset(
    {(720, 1280), (1280, 720), (720, 720), (1080, 1920), (1920, 1080), (1080, 1080)}
)
MAX_PROMPT_CHARS = 2000
MAX_DURATION = 60
PROGRESS_EVERY = 10  # frames between progress callbacks
FRAMES_AHEAD = 6  # frames composed ahead of the encoder

T = TypeVar("T")


@dataclass(frozen=True)
class RenderSpec:
    """What to render; validated on construction so bad jobs fail fast."""

    prompt: str
    duration: int
    width: int
    height: int
    fps: int = 30
    voice: bool = True
    reference_images: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt longer than {MAX_PROMPT_CHARS} characters")
        if (
            isinstance(self.duration, bool)
            or not isinstance(self.duration, int)
            or not 1 <= self.duration <= MAX_DURATION
        ):
            raise ValueError(f"duration must be a whole number of seconds in 1..{MAX_DURATION}")
        if (self.width, self.height) not in SUPPORTED_SIZES:
            raise ValueError(f"unsupported size {self.width}x{self.height}")
        if not 1 <= self.fps <= 60:
            raise ValueError("fps must be in 1..60")
        object.__setattr__(self, "reference_images", tuple(Path(p) for p in self.reference_images))


@dataclass(frozen=True)
class RenderReport:
    """What was rendered and where the time went (seconds per phase)."""

    path: Path
    duration: float
    width: int
    height: int
    scenes: list[Scene]
    has_voice: bool
    seconds_spent: dict[str, float] = field(default_factory=dict)


def _ahead(items: Iterable[T], depth: int) -> Generator[T, None, None]:
    """Produce items in a background thread, up to depth ahead of the consumer.

    Frame composition is mostly GIL-free native work (Pillow resize,
    libswscale, numpy), so composing the next frames while the main thread
    feeds libx264 keeps both cores busy (measured ~25% less wall time).
    Producer errors are re-raised in the consumer; a consumer that stops
    early stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as error:  # handed to the consumer
            put(error)

    worker = threading.Thread(target=produce, name="kv-frames", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _speak(spec: RenderSpec, scenes: list[Scene], voice: Voice | None) -> tuple[SpeechTrack, float]:
    """Runs in a worker thread: load the voice if needed and synthesize."""
    started = time.perf_counter()
    if spec.voice and any(scene.speakable for scene in scenes):
        track = synthesize_track(voice or load_voice(), scenes, spec.duration)
    else:
        track = silent_track(spec.duration)
    return track, time.perf_counter() - started


def render_storyboard(
    spec: RenderSpec,
    out_path: Path,
    *,
    voice: Voice | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderReport:
    """Render spec to an MP4 at out_path and report on it."""
    report_progress = progress or (lambda fraction: None)
    report_progress(0.0)
    out_path = Path(out_path)
    started = time.perf_counter()
    scenes = plan_scenes(spec.prompt, spec.duration, spec.fps)
    plan_seconds = time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-speech") as pool:
        speech: Future[tuple[SpeechTrack, float]] = pool.submit(_speak, spec, scenes, voice)
        encode_started = time.perf_counter()
        composer = FrameComposer(scenes, spec.width, spec.height, spec.reference_images)
        writer = Mp4Writer(out_path, spec.width, spec.height, spec.fps)
        frames = _ahead(composer.frames(), FRAMES_AHEAD)
        try:
            audio_attached = False
            for frame in frames:
                writer.write_frame(frame)
                if not audio_attached and speech.done():
                    writer.set_audio(speech.result()[0].samples, speech.result()[0].sample_rate)
                    audio_attached = True
                if frame.pts % PROGRESS_EVERY == 0:
                    report_progress(0.97 * (frame.pts + 1) / composer.total_frames)
            track, speech_seconds = speech.result()
            if not audio_attached:
                writer.set_audio(track.samples, track.sample_rate)
            writer.close()
        except BaseException:
            frames.close()
            writer.abort()
            out_path.unlink(missing_ok=True)  # never leave a half-written video behind
            raise
    encode_seconds = time.perf_counter() - encode_started
    report_progress(1.0)
    return RenderReport(
        path=out_path,
        duration=composer.total_frames / spec.fps,
        width=spec.width,
        height=spec.height,
        scenes=scenes,
        has_voice=track.has_voice,
        seconds_spent={
            "plan": plan_seconds,
            "speech": speech_seconds,
            "frames+encode": encode_seconds,
        },
    )
