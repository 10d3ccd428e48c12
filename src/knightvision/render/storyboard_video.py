"""The storyboard video: plan the prompt's scenes, speak and draw them, mux an MP4.

The voice is synthesized first: the cuts move to just before each scene's speech
(:func:`.storyboard.cut_before_speech`) and the captions follow its words. Then three threads
overlap: the music bed and the mix, frame composition and encoding, all CPU-bound in native code
that releases the GIL (the bed itself is made while the voice speaks). Design and measurements:
docs/adr/0002-renderer.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from .encode import Mp4Writer
from .frames import FrameComposer
from .mix import MIX_RATE, mix_soundtrack
from .music import choose_style, music_bed
from .palette import BrandPalette
from .prefetch import produce_ahead
from .presenter.lipsync import mouth_openness
from .spec import PROGRESS_EVERY, RenderSpec
from .speech import (
    SPEECH_LEAD,
    SpeechSpan,
    SpeechTrack,
    Voice,
    load_voice,
    silent_track,
    synthesize_track,
)
from .storyboard import Scene, cut_before_speech, plan_scenes
from .text_layout import undrawable_characters
from .word_timing import SaidSentence, SpokenWord

FRAMES_AHEAD = 6  # frames composed ahead of the encoder


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
    # Characters of the captions no bundled font can draw (shown as boxes), for the job's result.
    undrawable_characters: tuple[str, ...] = ()
    # Scene texts meant to be said in a script our voice cannot read: shown, not spoken.
    unspoken_text: tuple[str, ...] = ()
    #: When each scene's speech sounds: after the last span, the music carries the video.
    speech_spans: tuple[SpeechSpan, ...] = ()
    words_per_minute: float | None = None  # the pace the voice spoke at
    #: When each written word is heard (what the captions follow).
    spoken_words: tuple[SpokenWord, ...] = ()
    style: str | None = None  # the music bed's mood; None without music


@dataclass(frozen=True)
class _Sound:
    speech: SpeechTrack
    samples: np.ndarray  # the final mono float32 track
    sample_rate: int
    style: str | None
    seconds: dict[str, float]


class _CheckedVoice:
    """The voice, calling ``before_scene`` before each scene it speaks: the caller's progress
    callback, which may raise to stop the render (a stopped job) while it is still speaking."""

    def __init__(self, voice: Voice, before_scene: Callable[[], None]) -> None:
        self._voice = voice
        self._before_scene = before_scene

    def __getattr__(self, name: str) -> Any:
        return getattr(self._voice, name)

    def said(self, text: str, length_scale: float = 1.0) -> list[SaidSentence]:
        self._before_scene()
        return self._voice.said(text, length_scale)


def _speech(
    spec: RenderSpec, scenes: list[Scene], voice: Voice | None, before_scene: Callable[[], None]
) -> SpeechTrack:
    """Load the voice if needed and say the speakable scenes."""
    if spec.voice and any(scene.speakable for scene in scenes):
        checked = cast(Voice, _CheckedVoice(voice or load_voice(), before_scene))
        return synthesize_track(checked, scenes, spec.duration)
    return silent_track(spec.duration)


@dataclass(frozen=True)
class _Bed:
    samples: np.ndarray
    seconds: float


def _bed(spec: RenderSpec, style: str) -> _Bed:
    """Runs in a worker thread while the voice speaks: the music does not wait for it."""
    started = time.perf_counter()
    samples = music_bed(spec.prompt, style, spec.duration, MIX_RATE)
    return _Bed(samples, time.perf_counter() - started)


def _sound(
    spec: RenderSpec,
    speech: SpeechTrack,
    speech_seconds: float,
    style: str | None,
    bed: Future[_Bed] | None,
    before_mix: Callable[[], None],
) -> _Sound:
    """Runs in a worker thread: lay the music under the voice."""
    spoken = time.perf_counter()
    before_mix()  # the mix is seconds of CPU on a long video: not for a stopped render
    if not spec.music and not speech.has_voice:  # asked for silence
        return _Sound(speech, speech.samples, speech.sample_rate, None, {"speech": speech_seconds})
    music = bed.result() if bed is not None else None
    mixed = mix_soundtrack(
        speech.samples if speech.has_voice else None,
        speech.sample_rate,
        spec.prompt,
        style,
        spec.duration,
        bed=music.samples if music is not None else None,
    )
    seconds = {
        "speech": speech_seconds,
        "music": music.seconds if music is not None else 0.0,
        "mix": time.perf_counter() - spoken,
    }
    return _Sound(speech, mixed.samples, mixed.sample_rate, style, seconds)


def render_storyboard(
    spec: RenderSpec,
    out_path: Path,
    *,
    voice: Voice | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderReport:
    """Render spec to an MP4 at out_path and report on it."""
    shown = [0.0]  # the last fraction reported, repeated before each scene spoken and the mix

    def report_progress(fraction: float) -> None:
        shown[0] = fraction
        if progress is not None:
            progress(fraction)

    def checkpoint() -> None:
        report_progress(shown[0])

    report_progress(0.0)
    out_path = Path(out_path)
    started = time.perf_counter()
    planned = plan_scenes(spec.prompt, spec.duration, spec.fps)
    plan_seconds = time.perf_counter() - started

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-sound")
    try:
        style = choose_style(spec.prompt, spec.style) if spec.music else None
        bed = pool.submit(_bed, spec, style) if style is not None else None
        speech = _speech(spec, planned, voice, checkpoint)
        speech_seconds = time.perf_counter() - started - plan_seconds
        scenes = cut_before_speech(planned, {s.scene: s.start for s in speech.spans}, SPEECH_LEAD)
        sound: Future[_Sound] = pool.submit(
            _sound, spec, speech, speech_seconds, style, bed, checkpoint
        )
        encode_started = time.perf_counter()
        brand = BrandPalette.from_request(spec.prompt, spec.brand_color)
        composer = FrameComposer(
            scenes,
            spec.width,
            spec.height,
            spec.reference_images,
            brand,
            spec.presenters,
            # The presenters' mouths follow the voice alone, not the music under it.
            voice_levels=lambda frames: mouth_openness(
                speech.samples, speech.sample_rate, spec.fps, frames
            ),
            spoken_words=speech.spoken_words,
        )
        writer = Mp4Writer(out_path, spec.width, spec.height, spec.fps)
        frames = produce_ahead(composer.frames(), FRAMES_AHEAD)
        try:
            audio_attached = False
            for index, frame in enumerate(frames):  # the composer numbers frames from 0
                writer.write_frame(frame)
                if not audio_attached and sound.done():
                    writer.set_audio(sound.result().samples, sound.result().sample_rate)
                    audio_attached = True
                if index % PROGRESS_EVERY == 0:
                    report_progress(0.97 * (index + 1) / composer.total_frames)
            done = sound.result()
            if not audio_attached:
                writer.set_audio(done.samples, done.sample_rate)
            writer.close()
        except BaseException:
            frames.close()
            writer.abort()
            out_path.unlink(missing_ok=True)  # never leave a half-written video behind
            raise
    except BaseException:
        # A music bed or a mix under way ends on its own; a stopped render does not wait for it.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    encode_seconds = time.perf_counter() - encode_started
    report_progress(1.0)
    return RenderReport(
        path=out_path,
        duration=composer.total_frames / spec.fps,
        width=spec.width,
        height=spec.height,
        scenes=scenes,
        has_voice=done.speech.has_voice,
        undrawable_characters=tuple(undrawable_characters(" ".join(s.text for s in scenes))),
        unspoken_text=tuple(s.text for s in scenes if s.unspoken) if spec.voice else (),
        seconds_spent={"plan": plan_seconds, **done.seconds, "frames+encode": encode_seconds},
        speech_spans=done.speech.spans,
        words_per_minute=done.speech.words_per_minute,
        spoken_words=done.speech.spoken_words,
        style=done.style,
    )
