"""The OpenAI transcription adapter against a fake OpenAI server on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from knightvision.providers.transcription.openai_api import (
    OpenAITranscriber,
    OpenAITranscriptionConfig,
    extract_audio,
)
from knightvision.providers.transcription.port import TranscriptionError
from tests.fakes.openai_transcriptions import (
    error_body,
    fake_openai,
    verbose_body,
)
from tests.fixtures import clips
from tests.providers.transcription.late_sound import speech_clip


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def transcriber(
    base_url: str, *, model: str = "whisper-1", sleeps: Sleeps | None = None, **config: object
) -> OpenAITranscriber:
    return OpenAITranscriber(
        OpenAITranscriptionConfig(api_key="sk-test", base_url=base_url, model=model, **config),  # type: ignore[arg-type]
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


@pytest.fixture(scope="module")
def speech() -> Path:
    return clips.voice_wav("english")


def test_whisper_1_sends_verbose_json_with_word_timestamps(speech: Path) -> None:
    with fake_openai([(200, {}, verbose_body())]) as server:
        transcript = transcriber(server.base_url).transcribe(speech)
    [request] = server.requests
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert ("model", "whisper-1") in request.fields and (
        "response_format",
        "verbose_json",
    ) in request.fields
    assert [v for k, v in request.fields if k == "timestamp_granularities[]"] == ["word", "segment"]
    filename, audio = request.files["file"]
    assert filename == "audio.flac" and audio[:4] == b"fLaC"
    assert transcript.transcribable and transcript.text == "Order today and get free shipping."
    assert transcript.language == "en"  # verbose_json names the language; we report ISO 639-1
    assert transcript.engine == "openai whisper-1"
    assert [w["word"] for w in transcript.words][:2] == ["Order", "today"]
    assert (
        transcript.segments[0]["avg_logprob"] == -0.2
        and not transcript.segments[0]["low_confidence"]
    )
    assert transcript.speech_start == pytest.approx(0.5, abs=0.1)  # local VAD on the uploaded audio
    assert set(transcript.timings) == {"extract_audio_s", "api_s", "total_s"}


def test_times_follow_the_file_when_its_sound_starts_late(tmp_path: Path) -> None:
    # the API times the uploaded audio from its first sample; the file's sound starts ~1 s in
    late = speech_clip(tmp_path / "late.mp4", 1.0)
    with fake_openai([(200, {}, verbose_body())]) as server:
        transcript = transcriber(server.base_url).transcribe(late)
    assert [w["start"] for w in transcript.words][:2] == pytest.approx([1.5, 1.8], abs=0.05)
    assert transcript.segments[0]["start"] == pytest.approx(1.5, abs=0.05)
    assert transcript.speech_start == pytest.approx(1.5, abs=0.05)  # 1 s late + 0.5 s silence


def test_gpt_4o_transcribe_gets_text_without_timestamps(speech: Path) -> None:
    with fake_openai([(200, {}, {"text": "Order today and get free shipping."})]) as server:
        transcript = transcriber(server.base_url, model="gpt-4o-transcribe").transcribe(speech)
    [request] = server.requests
    assert ("response_format", "json") in request.fields
    assert not [k for k, _ in request.fields if k == "timestamp_granularities[]"]
    assert transcript.text == "Order today and get free shipping." and transcript.words == []
    assert "without timestamps" in transcript.note and transcript.speech_spans


def test_low_confidence_speech_is_withheld_but_its_language_reported(speech: Path) -> None:
    body = verbose_body(language="finnish", avg_logprob=-1.3, text="Hyvää huomenta")
    with fake_openai([(200, {}, body)]) as server:
        transcript = transcriber(server.base_url).transcribe(speech)
    assert not transcript.transcribable and transcript.text == "" and transcript.words == []
    assert transcript.language == "fi"
    assert "OpenAI whisper-1 could not transcribe it" in transcript.note


def test_base_url_is_configurable(speech: Path) -> None:
    with fake_openai([(200, {}, verbose_body())], prefix="/proxy/openai/v1") as server:
        assert server.base_url.endswith("/proxy/openai/v1")
        assert transcriber(server.base_url + "/").transcribe(speech).transcribable


def test_401_is_an_auth_error_without_retry(speech: Path) -> None:
    with (
        fake_openai(
            [(401, {}, error_body("Incorrect API key provided: sk-test.", code="invalid_api_key"))]
        ) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url).transcribe(speech)
    assert error.value.code == "transcription_auth" and not error.value.retryable
    assert "HTTP 401" in error.value.message and "Incorrect API key" in error.value.message
    assert len(server.requests) == 1


def test_429_waits_as_told_and_retries(speech: Path) -> None:
    sleeps = Sleeps()
    script = [
        (429, {"Retry-After": "2"}, error_body("Rate limit reached", "requests")),
        (200, {}, verbose_body()),
    ]
    with fake_openai(script) as server:
        transcript = transcriber(server.base_url, sleeps=sleeps).transcribe(speech)
    assert transcript.transcribable and len(server.requests) == 2 and sleeps == [2.0]


def test_429_that_persists_is_a_retryable_rate_limit_error(speech: Path) -> None:
    with (
        fake_openai([(429, {"retry-after-ms": "10"}, error_body("Rate limit reached"))]) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url).transcribe(speech)
    assert error.value.code == "transcription_rate_limited" and error.value.retryable
    assert len(server.requests) == 3  # max_attempts


def test_429_asking_for_too_long_a_wait_fails_at_once(speech: Path) -> None:
    with (
        fake_openai([(429, {"Retry-After": "600"}, error_body("Slow down"))]) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url).transcribe(speech)
    assert error.value.code == "transcription_rate_limited" and len(server.requests) == 1


def test_500s_are_retried_then_reported_as_upstream_errors(speech: Path) -> None:
    sleeps = Sleeps()
    with (
        fake_openai([(500, {}, error_body("The server had an error", "server_error"))]) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url, sleeps=sleeps, backoff_base=0.01, backoff_cap=0.02).transcribe(
            speech
        )
    assert error.value.code == "transcription_upstream" and error.value.retryable
    assert "HTTP 500" in error.value.message and "server had an error" in error.value.message
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_500_then_success(speech: Path) -> None:
    with fake_openai([(500, {}, b"oops"), (200, {}, verbose_body())]) as server:
        transcript = transcriber(server.base_url, backoff_base=0.01, backoff_cap=0.02).transcribe(
            speech
        )
    assert transcript.transcribable and len(server.requests) == 2


def test_400_is_a_bad_request(speech: Path) -> None:
    with (
        fake_openai([(400, {}, error_body("Invalid file format."))]) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url).transcribe(speech)
    assert error.value.code == "transcription_bad_request" and not error.value.retryable


def test_a_non_json_answer_is_malformed(speech: Path) -> None:
    with (
        fake_openai([(200, {}, b"<html>proxy</html>")]) as server,
        pytest.raises(TranscriptionError) as error,
    ):
        transcriber(server.base_url).transcribe(speech)
    assert error.value.code == "transcription_malformed"


def test_an_unreachable_server_is_retryable(speech: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(TranscriptionError) as error:
        transcriber(f"http://127.0.0.1:{port}/v1").transcribe(speech)
    assert error.value.code == "transcription_unreachable" and error.value.retryable


def test_no_audio_track_means_no_request() -> None:
    with fake_openai([(500, {}, error_body("must not be called"))]) as server:
        transcript = transcriber(server.base_url).transcribe(clips.cuts_clip().path)
    assert (
        server.requests == []
        and transcript.has_audio is False
        and transcript.note == "no audio track"
    )


def test_extract_audio_writes_small_mono_flac(tmp_path: Path) -> None:
    out = extract_audio(clips.storyboard_ad().path, tmp_path / "a.flac")
    import av

    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (
            stream.codec_context.name,
            stream.codec_context.sample_rate,
            stream.codec_context.channels,
        ) == (
            "flac",
            16000,
            1,
        )
        assert float(stream.duration * stream.time_base) == pytest.approx(12.0, abs=0.2)
    assert out.stat().st_size < 600_000
