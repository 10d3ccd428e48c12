"""The port the `transcribing` stage talks to, and the transcript every adapter returns.

A :class:`Transcript` is plain data (``to_dict``/``from_dict`` round-trip through JSON, so the job
can checkpoint it). D17: speech the configured model cannot transcribe is reported as such —
``transcribable`` is False, ``text``/``segments``/``words`` are empty and ``note`` says why — never
turned into nonsense. ``speech_spans`` (voice activity, see :mod:`.vad`) still says *when*
speech is heard, so timing metrics (speech start) survive. ``transcribable`` is True when whatever
text there is can be trusted, including no text at all (no audio track, or no speech: ``note``
says which).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from knightvision.kit.errors import ProviderError

#: A segment is low-confidence below either bound (Whisper's average token log-probability, or
#: the mean probability of its words). Measured on piper speech with tiny.en: clear English
#: scores about -0.3 / 0.9; non-English or reversed speech about -1.0 / 0.45.
MIN_AVG_LOGPROB = -0.8
MIN_WORD_PROBABILITY = 0.5
#: When at least this share of the speech (by duration) is low-confidence, the transcript is
#: withheld as not transcribable; below it, low-confidence segments are kept and flagged.
UNTRANSCRIBABLE_SHARE = 0.5


@dataclass
class Transcript:
    """What was said, with timestamps in seconds from the start of the media.

    ``segments``: ``{start, end, text, avg_logprob, low_confidence}`` (``avg_logprob`` may be None
    when the engine does not report it). ``words``: ``{start, end, word, probability}``.
    ``language``: ISO-639-1 code or None when unknown; ``language_probability`` is None when the
    engine did not detect the language (an English-only model assumes English).
    """

    text: str
    language: str | None
    language_probability: float | None
    segments: list[dict[str, Any]]
    words: list[dict[str, Any]]
    engine: str
    transcribable: bool = True
    note: str | None = None
    speech_spans: list[dict[str, float]] = field(default_factory=list)
    has_audio: bool = True
    duration_s: float | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def shifted(self, offset: float) -> Transcript:
        """This transcript with every time moved ``offset`` seconds later (engines time the
        audio from its first sample; see :func:`audio_start`)."""
        if not offset:
            return self

        def moved(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    **item,
                    "start": round(item["start"] + offset, 3),
                    "end": round(item["end"] + offset, 3),
                }
                for item in items
            ]

        return replace(
            self,
            segments=moved(self.segments),
            words=moved(self.words),
            speech_spans=moved(self.speech_spans),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def speech_start(self) -> float | None:
        """When speech is first heard: the first speech span (voice activity), else the first
        word."""
        if self.speech_spans:
            return float(self.speech_spans[0]["start"])
        if self.words:
            return float(self.words[0]["start"])
        return None

    @classmethod
    def empty(
        cls, engine: str, note: str, *, has_audio: bool = True, duration_s: float | None = None
    ) -> Transcript:
        return cls(
            text="",
            language=None,
            language_probability=None,
            segments=[],
            words=[],
            engine=engine,
            transcribable=True,
            note=note,
            has_audio=has_audio,
            duration_s=duration_s,
        )


class Transcriber(Protocol):
    engine: str  # e.g. "faster-whisper tiny.en", "openai whisper-1"; reported in the result

    def transcribe(self, audio_or_video: Path) -> Transcript:
        """Transcribe the first audio track of a media file. Blocking; raises TranscriptionError."""


class TranscriptionError(ProviderError):
    """A failed transcription with a stable code (``transcription_auth``,
    ``transcription_rate_limited``, ``transcription_upstream``, ``transcription_timeout``,
    ``transcription_media``, …)."""

    code_in_text = True


def segment_is_confident(avg_logprob: float | None, word_probabilities: list[float]) -> bool:
    if avg_logprob is not None and avg_logprob < MIN_AVG_LOGPROB:
        return False
    return (
        not word_probabilities
        or sum(word_probabilities) / len(word_probabilities) >= MIN_WORD_PROBABILITY
    )


def judge(
    segments: list[dict[str, Any]],
    words: list[dict[str, Any]],
    *,
    engine: str,
    language: str | None,
    language_probability: float | None,
    duration_s: float | None,
    model_note: str,
    language_detected: bool,
    speech_spans: list[dict[str, float]] | None = None,
) -> Transcript:
    """Build the transcript from engine output, applying the D17 confidence rule.

    ``segments`` carry ``low_confidence``; ``model_note`` explains, for a withheld transcript,
    what the model could not do (e.g. "the English-only model tiny.en"). A withheld transcript
    still reports the language when the engine detected it (``language_detected``).
    """
    spans = (
        speech_spans
        if speech_spans is not None
        else [{"start": round(s["start"], 3), "end": round(s["end"], 3)} for s in segments]
    )
    speech = sum(max(0.0, s["end"] - s["start"]) for s in segments)
    doubtful = sum(max(0.0, s["end"] - s["start"]) for s in segments if s["low_confidence"])
    if not segments:
        transcript = Transcript.empty(engine, "no speech detected", duration_s=duration_s)
        if spans:  # voice activity without anything the model would write down (e.g. humming)
            transcript.note = "no words recognised in the voice activity heard"
            transcript.speech_spans = spans
        return transcript
    if speech <= 0 or doubtful / speech >= UNTRANSCRIBABLE_SHARE:
        return Transcript(
            text="",
            language=language if language_detected else None,
            language_probability=language_probability if language_detected else None,
            segments=[],
            words=[],
            engine=engine,
            transcribable=False,
            note=(
                f"speech heard for {speech:.1f} s but {model_note} could not transcribe it "
                "with confidence "
                "(probably a language it does not know, or unclear speech); no text is reported"
            ),
            speech_spans=spans,
            duration_s=duration_s,
        )
    flagged = sum(1 for s in segments if s["low_confidence"])
    note = None
    if flagged:
        note = f"{flagged} of {len(segments)} segments are low-confidence (flagged low_confidence)"
    return Transcript(
        text=" ".join(s["text"].strip() for s in segments if s["text"].strip()),
        language=language,
        language_probability=language_probability,
        segments=segments,
        words=words,
        engine=engine,
        transcribable=True,
        note=note,
        speech_spans=spans,
        duration_s=duration_s,
    )


def audio_duration(path: Path) -> tuple[bool, float | None]:
    """(has an audio track, duration in seconds or None) read with PyAV."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return False, (container.duration / av.time_base if container.duration else None)
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return True, float(stream.duration * stream.time_base)
            return True, (container.duration / av.time_base if container.duration else None)
    except av.error.FFmpegError as exc:
        raise TranscriptionError("transcription_media", f"cannot read media: {exc}") from None


def audio_start(path: Path) -> float:
    """Seconds from the container's start (time zero as players show it, and as
    ``media.probe`` measures) to the first audio sample: above zero when the sound starts after
    the video. Decoders return the samples without this offset, so transcript times add it."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return 0.0
            stream = container.streams.audio[0]
            if stream.start_time is None or stream.time_base is None:
                return 0.0
            origin = container.start_time / av.time_base if container.start_time else 0.0
            return max(0.0, float(stream.start_time * stream.time_base) - origin)
    except av.error.FFmpegError as exc:
        raise TranscriptionError("transcription_media", f"cannot read media: {exc}") from None
