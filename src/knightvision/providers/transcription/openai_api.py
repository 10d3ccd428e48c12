"""Transcription with OpenAI's ``POST /v1/audio/transcriptions`` (or a compatible server).

The audio track is first extracted to mono 16 kHz FLAC (small: about 1 MB per minute, well under
the 25 MB upload cap) with PyAV; speech spans come from the local VAD (:mod:`.vad`), as for the
local engine. ``whisper-1`` is asked for ``verbose_json`` with word and segment
timestamps, which also carry the detected language and per-segment ``avg_logprob``, so the D17
confidence rule applies as for the local engine. The ``gpt-4o*-transcribe`` models only answer
``json`` (text, no timestamps): their transcript has text but no segments or words, and says so.

429 and 5xx are retried (bounded by attempts and the call's deadline, honouring ``Retry-After``);
everything else fails at once with a clear :class:`TranscriptionError`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from knightvision.kit.http import error_message, retry_after_seconds
from knightvision.kit.metrics import upstream_answered
from knightvision.kit.retry import RetryLater, call_with_retries, check_retry_settings
from knightvision.providers.transcription import vad
from knightvision.providers.transcription.port import (
    Transcript,
    TranscriptionError,
    audio_duration,
    audio_start,
    judge,
    segment_is_confident,
)

__all__ = ["OpenAITranscriber", "OpenAITranscriptionConfig", "extract_audio"]

#: Names this adapter's code for the analysis stage cache: change it with any change to the
#: transcript it returns for the same reply.
ENGINE_VERSION = "openai-transcription-2"
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_DETAIL_CHARS = 300
#: Models that answer ``verbose_json`` (timestamps, language, log-probabilities).
VERBOSE_MODELS = frozenset({"whisper-1"})

#: verbose_json reports the language by English name; we report ISO-639-1 codes.
LANGUAGE_CODES = {
    "afrikaans": "af", "arabic": "ar", "armenian": "hy", "azerbaijani": "az", "belarusian": "be",
    "bosnian": "bs", "bulgarian": "bg", "catalan": "ca", "chinese": "zh", "croatian": "hr",
    "czech": "cs", "danish": "da", "dutch": "nl", "english": "en", "estonian": "et",
    "finnish": "fi", "french": "fr", "galician": "gl", "german": "de", "greek": "el",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is", "indonesian": "id",
    "italian": "it", "japanese": "ja", "kannada": "kn", "kazakh": "kk", "korean": "ko",
    "latvian": "lv", "lithuanian": "lt", "macedonian": "mk", "malay": "ms", "marathi": "mr",
    "maori": "mi", "nepali": "ne", "norwegian": "no", "persian": "fa", "polish": "pl",
    "portuguese": "pt", "romanian": "ro", "russian": "ru", "serbian": "sr", "slovak": "sk",
    "slovenian": "sl", "spanish": "es", "swahili": "sw", "swedish": "sv", "tagalog": "tl",
    "tamil": "ta", "thai": "th", "turkish": "tr", "ukrainian": "uk", "urdu": "ur",
    "vietnamese": "vi", "welsh": "cy",
}  # fmt: skip


@dataclass(frozen=True)
class OpenAITranscriptionConfig:
    api_key: str | None
    base_url: str = "https://api.openai.com/v1"
    model: str = (
        "whisper-1"  # or gpt-4o-transcribe / gpt-4o-mini-transcribe (text only, no timestamps)
    )
    timeout: float = 300.0  # whole call, retries included
    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0


def decode_audio(media: Path) -> np.ndarray:
    """First audio track of ``media`` as 16 kHz mono float32 (faster-whisper's PyAV decoder)."""
    from faster_whisper import decode_audio as whisper_decode

    samples: np.ndarray = whisper_decode(str(media), sampling_rate=vad.SAMPLE_RATE)
    return samples


def write_flac(audio: np.ndarray, out: Path, *, sample_rate: int = vad.SAMPLE_RATE) -> Path:
    """Mono float32 samples as a 16-bit FLAC file."""
    import av

    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with av.open(str(out), "w", format="flac") as sink:
        encoder = sink.add_stream("flac", rate=sample_rate, layout="mono")
        step = 4096
        for start in range(0, len(pcm), step):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, start : start + step], format="s16", layout="mono"
            )
            frame.sample_rate = sample_rate
            frame.pts = start
            for packet in encoder.encode(frame):
                sink.mux(packet)
        for packet in encoder.encode(None):
            sink.mux(packet)
    return out


def extract_audio(media: Path, out: Path) -> Path:
    """First audio track of ``media`` as mono 16 kHz FLAC at ``out``."""
    return write_flac(decode_audio(media), out)


class OpenAITranscriber:
    """``Transcriber`` over HTTP. ``transport`` and ``sleep`` are for tests."""

    def __init__(
        self,
        config: OpenAITranscriptionConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_retry_settings(config)
        self.config = config
        self.engine = f"openai {config.model}"
        self._transport = transport
        self._sleep = sleep

    @property
    def cache_version(self) -> str:
        """The transcript depends on the endpoint and the model, not on the key or retries."""
        return f"{ENGINE_VERSION}; {self.engine}; {self.config.base_url}"

    @property
    def verbose(self) -> bool:
        return self.config.model in VERBOSE_MODELS

    def transcribe(self, audio_or_video: Path) -> Transcript:
        started = time.perf_counter()
        media = Path(audio_or_video)
        has_audio, duration = audio_duration(media)
        if not has_audio:
            transcript = Transcript.empty(
                self.engine, "no audio track", has_audio=False, duration_s=duration
            )
            transcript.timings = {"total_s": round(time.perf_counter() - started, 3)}
            return transcript
        with tempfile.TemporaryDirectory(prefix="kv-audio-") as tmp:
            try:
                audio = decode_audio(media)
                upload = write_flac(audio, Path(tmp) / "audio.flac")
            except (av.error.FFmpegError, OSError, ValueError) as exc:  # a damaged or odd track
                raise TranscriptionError(
                    "transcription_media", f"cannot extract audio: {exc}"
                ) from None
            spans = vad.speech_spans(audio)
            if upload.stat().st_size > MAX_UPLOAD_BYTES:
                raise TranscriptionError(
                    "transcription_too_large",
                    f"audio is {upload.stat().st_size / 1e6:.1f} MB; the API accepts 25 MB",
                )
            extracted = time.perf_counter()
            body = self._request(upload.read_bytes())
        # the upload starts at the first audio sample; times are from the container's start
        transcript = self._parse(body, duration, spans).shifted(audio_start(media))
        transcript.timings = {
            "extract_audio_s": round(extracted - started, 3),
            "api_s": round(time.perf_counter() - extracted, 3),
            "total_s": round(time.perf_counter() - started, 3),
        }
        return transcript

    def form_fields(self) -> list[tuple[str, str]]:
        """The non-file multipart fields sent."""
        fields = [("model", self.config.model)]
        if self.verbose:
            fields += [
                ("response_format", "verbose_json"),
                ("timestamp_granularities[]", "word"),
                ("timestamp_granularities[]", "segment"),
            ]
        else:
            fields.append(("response_format", "json"))
        return fields

    def _request(self, audio: bytes) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + "/audio/transcriptions"
        headers = {"Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        deadline = time.monotonic() + self.config.timeout
        with httpx.Client(transport=self._transport, headers=headers) as client:

            def try_once(remaining: float) -> dict[str, Any]:
                try:
                    response = client.post(
                        url,
                        data=_form_data(self.form_fields()),
                        files={"file": ("audio.flac", audio, "audio/flac")},
                        timeout=httpx.Timeout(remaining, connect=min(remaining, 10.0)),
                    )
                except httpx.TimeoutException as exc:
                    upstream_answered("openai_transcription", type(exc).__name__)
                    raise self._timed_out() from None
                except httpx.TransportError as exc:
                    upstream_answered("openai_transcription", type(exc).__name__)
                    raise TranscriptionError(
                        "transcription_unreachable",
                        f"{type(exc).__name__} calling {url}",
                        retryable=True,
                    ) from None
                upstream_answered("openai_transcription", response.status_code)
                if response.status_code == 200:
                    return _json_body(response)
                error = _http_error(response)
                if not error.retryable:
                    raise error
                raise RetryLater(error, retry_after_seconds(response.headers))

            return call_with_retries(
                try_once,
                settings=self.config,
                deadline=deadline,
                timed_out=self._timed_out,
                sleep=self._sleep,
            )

    def _timed_out(self) -> TranscriptionError:
        timeout = self.config.timeout
        return TranscriptionError(
            "transcription_timeout", f"no answer within {timeout:g} s", retryable=True
        )

    def _parse(
        self, body: dict[str, Any], duration: float | None, spans: list[dict[str, float]]
    ) -> Transcript:
        language = _language_code(body.get("language"))
        duration = duration if duration is not None else _float(body.get("duration"))
        if not self.verbose or "segments" not in body:
            text = body["text"].strip()
            transcript = Transcript(
                text=text,
                language=language,
                language_probability=None,
                segments=[],
                words=[],
                engine=self.engine,
                note=f"{self.config.model} returns text without timestamps"
                if text
                else "no speech detected",
                speech_spans=spans,
                duration_s=duration,
            )
            return transcript
        raw_words = [
            w
            for w in body.get("words") or []
            if isinstance(w, dict) and str(w.get("word", "")).strip()
        ]
        words = [
            {
                "start": round(_float(w.get("start")) or 0.0, 3),
                "end": round(_float(w.get("end")) or 0.0, 3),
                "word": str(w["word"]).strip(),
                "probability": None,
            }
            for w in raw_words
        ]
        segments = []
        for seg in body.get("segments") or []:
            if not isinstance(seg, dict):
                continue
            avg_logprob = _float(seg.get("avg_logprob"))
            no_speech = _float(seg.get("no_speech_prob")) or 0.0
            confident = segment_is_confident(avg_logprob, []) and no_speech < 0.8
            segments.append(
                {
                    "start": round(_float(seg.get("start")) or 0.0, 3),
                    "end": round(_float(seg.get("end")) or 0.0, 3),
                    "text": str(seg.get("text", "")).strip(),
                    "avg_logprob": None if avg_logprob is None else round(avg_logprob, 3),
                    "low_confidence": not confident,
                }
            )
        words = vad.align_words(words, spans)
        if not segments and body["text"].strip():  # words only: one segment spanning them
            start = words[0]["start"] if words else 0.0
            end = words[-1]["end"] if words else (duration or 0.0)
            segments = [
                {
                    "start": start,
                    "end": end,
                    "text": body["text"].strip(),
                    "avg_logprob": None,
                    "low_confidence": False,
                }
            ]
        # whisper-1 detects the language but reports no probability; report it as detected.
        return judge(
            segments,
            words,
            engine=self.engine,
            language=language,
            language_probability=None,
            duration_s=None if duration is None else round(duration, 3),
            model_note=f"OpenAI {self.config.model}",
            language_detected=language is not None,
            speech_spans=spans,
        )


def _form_data(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Pairs -> httpx form data (a repeated name becomes a list, sent as repeated parts)."""
    data: dict[str, str | list[str]] = {}
    for name, value in fields:
        if name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    return data


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TranscriptionError("transcription_malformed", "response is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise TranscriptionError("transcription_malformed", "response has no text")
    return body


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip().lower()
    if len(code) == 2:
        return code
    return LANGUAGE_CODES.get(code, code)


def _http_error(response: httpx.Response) -> TranscriptionError:
    status = response.status_code
    detail = error_message(response, _DETAIL_CHARS)
    if status in (401, 403):
        return TranscriptionError(
            "transcription_auth", f"HTTP {status} from the transcription API: {detail}"
        )
    if status == 429:
        return TranscriptionError(
            "transcription_rate_limited",
            f"HTTP 429 from the transcription API: {detail}",
            retryable=True,
        )
    if status == 413:
        return TranscriptionError(
            "transcription_too_large", f"HTTP 413 from the transcription API: {detail}"
        )
    if status in RETRYABLE_STATUS or status >= 500:
        return TranscriptionError(
            "transcription_upstream",
            f"HTTP {status} from the transcription API: {detail}",
            retryable=True,
        )
    return TranscriptionError(
        "transcription_bad_request", f"HTTP {status} from the transcription API: {detail}"
    )
