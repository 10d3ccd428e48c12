"""Local transcription with faster-whisper (CTranslate2), offline.

Two models ship in packages (:mod:`.bundled_models`): the multilingual *base* (the default: it
detects the spoken language and transcribes it in that language) and the English-only tiny.en
(``model="tiny.en"``: faster, English only). Operators can point ``model_dir`` at any other
CTranslate2 Whisper model directory (e.g. a converted ``small`` or ``large-v3``) — nothing is ever
downloaded (``local_files_only``).

Settings: CPU, int8, word timestamps, Silero VAD (bundled with faster-whisper) so silence and
music-only stretches are skipped, beam size 5, and for an English-only model a punctuated style
prompt so the text comes in sentences (the multilingual base punctuates without one: measured on
the piper fixtures). Speech spans and onsets come from a second, tighter VAD pass (:mod:`.vad`),
which also corrects Whisper's early first-word starts. Every time is from the container's start,
as players (and :mod:`knightvision.media.probe`) count it: an audio stream that starts late keeps
its offset.

Models load once per (directory, compute type, threads) and are shared by every
:class:`LocalWhisperTranscriber` built with the same settings. A model instance is used by one
transcription at a time (a per-model lock): CTranslate2 could run several, but each already uses
all ``cpu_threads``, so queueing is faster than contending — one analysis job at a time per model.

D17: a multilingual model reports the language it detected on the speech (VAD on) and its
probability; below :data:`LOW_LANGUAGE_PROBABILITY` the note says the language is uncertain. An
English-only model (``*.en``) cannot detect languages, so its transcript's language is "en" with
``language_probability`` None. With either, speech the model cannot transcribe confidently (judged
per segment by average log-probability and word probability) is reported as not transcribable
instead of as the nonsense it would produce.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import av

from knightvision.providers.transcription.bundled_models import bundled_model_dir, tiny_en_dir
from knightvision.providers.transcription.port import (
    Transcript,
    TranscriptionError,
    audio_duration,
    audio_start,
    judge,
    segment_is_confident,
)
from knightvision.providers.transcription.vad import align_words, speech_spans

#: Names this adapter's code for the analysis stage cache: change it with any change to the
#: transcript it returns for the same media, model and configuration.
ENGINE_VERSION = "local-whisper-2"

#: Below this probability of the detected language, the transcript says the language is
#: uncertain. Measured with the base model on the speech only (VAD on): our piper English
#: fixtures 0.993-0.999, robotic espeak-ng Spanish 0.913; English-voiced Finnish 0.48, espeak-ng
#: French 0.16 (detected as Hungarian). 0.8 keeps all clear speech in a language the model knows
#: above it and the mispronounced or unknown below it. (Reversed English, speech in no language,
#: reads "en" at 0.84: its text is withheld by the per-segment confidence rule, not by this.)
LOW_LANGUAGE_PROBABILITY = 0.8

BundledModel = Literal["base", "tiny.en"]

__all__ = [
    "LOW_LANGUAGE_PROBABILITY",
    "BundledModel",
    "LocalWhisperConfig",
    "LocalWhisperTranscriber",
    "load_model",
]


@dataclass(frozen=True)
class LocalWhisperConfig:
    #: Which packaged model: the multilingual ``base`` or the English-only ``tiny.en``.
    model: BundledModel = "base"
    #: Any CTranslate2 Whisper model directory instead of a packaged model.
    model_dir: Path | None = None
    #: Where the base model's parts are joined (default: the user's cache directory).
    model_cache: Path | None = None
    # label in ``engine``; default: the packaged model's name, else the directory name
    name: str | None = None
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: all cores, at most 4
    beam_size: int = 5
    vad_filter: bool = True
    #: Whisper re-decodes a window at the next temperature when the text looks wrong (repetitive or
    #: improbable). Three steps instead of faster-whisper's six bound the cost on speech the model
    #: cannot transcribe anyway (measured: reversed speech 2x faster) without hurting clear speech.
    temperatures: tuple[float, ...] = (0.0, 0.4, 0.8)
    #: Punctuated text given to an English-only model as the previous context of every window.
    #: Without it tiny.en often settles into lower-case, unpunctuated timestamped output (with or
    #: without the VAD filter: measured on the sample ad), and sentences are lost. Neutral words,
    #: so it biases the style, not what is heard; None turns it off. A multilingual model never
    #: gets it (English words would pull other languages towards English).
    style_prompt: str | None = "Hello, and welcome. Today, we're talking about it!"


class _LoadedModel:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()


_MODELS: dict[tuple[str, str, int], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def _threads(configured: int) -> int:
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


def load_model(model_dir: Path, compute_type: str = "int8", cpu_threads: int = 0) -> _LoadedModel:
    """The shared faster-whisper model for these settings, loaded on first use."""
    key = (str(Path(model_dir).resolve()), compute_type, _threads(cpu_threads))
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            if not (Path(model_dir) / "model.bin").is_file():
                raise TranscriptionError(
                    "transcription_model_missing", f"no CTranslate2 model.bin in {model_dir}"
                )
            from faster_whisper import WhisperModel

            model = WhisperModel(
                key[0],
                device="cpu",
                compute_type=compute_type,
                cpu_threads=key[2],
                local_files_only=True,
            )
            loaded = _MODELS[key] = _LoadedModel(model)
        return loaded


class LocalWhisperTranscriber:
    """``Transcriber`` on a local faster-whisper model."""

    def __init__(self, config: LocalWhisperConfig | None = None) -> None:
        self.config = config or LocalWhisperConfig()
        configured = self.config.model_dir
        self.model_name = self.config.name or (
            Path(configured).name if configured else self.config.model
        )
        self.engine = f"faster-whisper {self.model_name}"

    @cached_property
    def model_dir(self) -> Path:
        """The model's directory; the packaged base is joined into its cache on first use."""
        if self.config.model_dir is not None:
            return Path(self.config.model_dir)
        if self.config.model == "tiny.en":
            return tiny_en_dir()
        return bundled_model_dir(cache=self.config.model_cache)

    @property
    def cache_version(self) -> str:
        """Everything the transcript depends on besides the media: code, library, model files
        (their size and time, so a model replaced in place counts as another) and settings."""
        from importlib.metadata import version

        model = self.model_dir / "model.bin"
        stamp = f"{model.stat().st_size}:{model.stat().st_mtime_ns}" if model.is_file() else "-"
        return (
            f"{ENGINE_VERSION}; faster-whisper {version('faster-whisper')}; {self.engine};"
            f" {self.model_dir.resolve()} {stamp}; {self.config}"
        )

    def warm_up(self) -> None:
        """Load the model now (it otherwise loads on the first transcription)."""
        load_model(self.model_dir, self.config.compute_type, self.config.cpu_threads)

    def transcribe(self, audio_or_video: Path) -> Transcript:
        started = time.perf_counter()
        has_audio, duration = audio_duration(Path(audio_or_video))
        if not has_audio:
            transcript = Transcript.empty(
                self.engine, "no audio track", has_audio=False, duration_s=duration
            )
            transcript.timings = {"total_s": round(time.perf_counter() - started, 3)}
            return transcript
        loaded = load_model(self.model_dir, self.config.compute_type, self.config.cpu_threads)
        from faster_whisper import decode_audio

        try:
            audio = decode_audio(str(audio_or_video), sampling_rate=16000)
            # decoding drops the stream's timestamps: times below start at the first sample
            offset = audio_start(Path(audio_or_video))
        except (av.error.FFmpegError, OSError, ValueError) as exc:  # a damaged or odd track
            raise TranscriptionError("transcription_media", f"cannot decode audio: {exc}") from None
        decoded = time.perf_counter()
        if audio.size == 0:
            return Transcript.empty(self.engine, "audio track is empty", duration_s=duration)
        with loaded.lock:
            multilingual = bool(loaded.model.model.is_multilingual)
            segments_iter, info = loaded.model.transcribe(
                audio,
                beam_size=self.config.beam_size,
                word_timestamps=True,
                vad_filter=self.config.vad_filter,
                condition_on_previous_text=False,  # one garbled line must not derail the next
                temperature=list(self.config.temperatures),
                # faster-whisper puts ``hotwords`` before every window (an initial prompt only
                # reaches the first 30 s); English text, so only for an English-only model
                hotwords=None if multilingual else self.config.style_prompt,
            )
            raw = list(segments_iter)
        segments: list[dict[str, Any]] = []
        words: list[dict[str, Any]] = []
        for seg in raw:
            seg_words = [w for w in (seg.words or []) if w.word.strip()]
            confident = segment_is_confident(seg.avg_logprob, [w.probability for w in seg_words])
            segments.append(
                {
                    "start": round(float(seg.start), 3),
                    "end": round(float(seg.end), 3),
                    "text": seg.text.strip(),
                    "avg_logprob": round(float(seg.avg_logprob), 3),
                    "low_confidence": not confident,
                }
            )
            words += [
                {
                    "start": round(float(w.start), 3),
                    "end": round(float(w.end), 3),
                    "word": w.word.strip(),
                    "probability": round(float(w.probability), 3),
                }
                for w in seg_words
            ]
        spans = speech_spans(audio)
        words = align_words(words, spans)
        if multilingual:
            language, probability = info.language, round(float(info.language_probability), 3)
            model_note = f"the model {self.model_name}"
        else:
            language, probability, model_note = (
                "en",
                None,
                f"the English-only model {self.model_name}",
            )
        transcript = judge(
            segments,
            words,
            engine=self.engine,
            language=language,
            language_probability=probability,
            duration_s=round(float(duration if duration is not None else info.duration), 3),
            model_note=model_note,
            language_detected=multilingual,
            speech_spans=spans,
        ).shifted(offset)
        if transcript.segments or not transcript.transcribable:
            _add_language_note(transcript, multilingual, language, probability)
        transcript.timings = {
            "decode_audio_s": round(decoded - started, 3),
            "whisper_s": round(time.perf_counter() - decoded, 3),
            "total_s": round(time.perf_counter() - started, 3),
        }
        return transcript


def _add_language_note(
    transcript: Transcript, multilingual: bool, language: str, probability: float | None
) -> None:
    """Say how the language was found when there was speech: assumed (English-only model), or
    detected with a probability too low to trust."""
    if not multilingual:
        if not transcript.transcribable:
            return  # the note already says the English-only model could not transcribe it
        extra = "language assumed English (English-only model; not detected)"
    elif probability is not None and probability < LOW_LANGUAGE_PROBABILITY:
        extra = (
            f"low confidence in the detected language: {language} at probability"
            f" {probability:.2f} (below {LOW_LANGUAGE_PROBABILITY:.2f})"
        )
    else:
        return
    transcript.note = f"{transcript.note}; {extra}" if transcript.note else extra
