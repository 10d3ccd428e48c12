"""Local faster-whisper (bundled tiny.en) on speech with known truth, and on speech it cannot
know."""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from knightvision.providers.transcription.local_whisper import (
    LocalWhisperConfig,
    LocalWhisperTranscriber,
    default_model_dir,
    load_model,
)
from knightvision.providers.transcription.port import Transcript, TranscriptionError
from tests.fixtures import clips

assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set by tests/conftest.py: never download


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def similarity(said: str, heard: str) -> float:
    return difflib.SequenceMatcher(None, words_of(said), words_of(heard)).ratio()


@pytest.fixture(scope="module")
def whisper() -> LocalWhisperTranscriber:
    transcriber = LocalWhisperTranscriber()
    transcriber.warm_up()
    return transcriber


def test_english_speech_is_transcribed_with_word_times(whisper: LocalWhisperTranscriber) -> None:
    transcript = whisper.transcribe(clips.voice_wav("english"))
    truth = (
        "Order today and get free shipping. Thousands of busy parents already love this smart mug."
    )
    assert transcript.transcribable and transcript.has_audio
    assert similarity(truth, transcript.text) >= 0.8, transcript.text
    assert (
        transcript.language == "en" and transcript.language_probability is None
    )  # assumed, not detected
    assert "English-only" in (transcript.note or "")
    assert transcript.engine == "faster-whisper tiny.en"
    assert transcript.speech_start == pytest.approx(0.5, abs=0.25)  # the WAV has 0.5 s of lead-in
    starts = [w["start"] for w in transcript.words]
    assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in transcript.words)
    assert transcript.segments and all(not s["low_confidence"] for s in transcript.segments)
    assert {"decode_audio_s", "whisper_s", "total_s"} <= set(transcript.timings)


def test_rendered_ad_voice_over_matches_its_script(whisper: LocalWhisperTranscriber) -> None:
    ad = clips.storyboard_ad()
    transcript = whisper.transcribe(ad.path)
    assert transcript.transcribable
    assert similarity(clips.AD_PROMPT, transcript.text) >= 0.75, transcript.text
    assert transcript.speech_start == pytest.approx(ad.speech_lead, abs=0.25)
    # each sentence is spoken in its own scene
    for scene in ad.scenes:
        inside = " ".join(
            w["word"] for w in transcript.words if scene.start - 0.1 <= w["start"] < scene.end
        )
        assert similarity(scene.text, inside) >= 0.6, (scene.text, inside)


@pytest.mark.parametrize("name", ["finnish", "reversed"])
def test_speech_the_model_cannot_transcribe_is_reported_not_invented(
    whisper: LocalWhisperTranscriber, name: str
) -> None:
    transcript = whisper.transcribe(clips.voice_wav(name))
    assert not transcript.transcribable
    assert transcript.text == "" and transcript.segments == [] and transcript.words == []
    assert transcript.language is None  # an English-only model cannot tell which language it was
    assert "English-only model tiny.en could not transcribe" in transcript.note
    assert transcript.speech_spans and transcript.speech_start == pytest.approx(0.5, abs=0.3)


def test_video_without_audio_gives_an_empty_transcript(whisper: LocalWhisperTranscriber) -> None:
    transcript = whisper.transcribe(clips.cuts_clip().path)
    assert transcript.has_audio is False and transcript.transcribable
    assert transcript.text == "" and transcript.note == "no audio track"
    assert transcript.speech_start is None


def test_silence_is_no_speech(whisper: LocalWhisperTranscriber, tmp_path: Path) -> None:
    silent = clips.write_wav(tmp_path / "silence.wav", np.zeros(3 * 16000, np.float32), 16000)
    transcript = whisper.transcribe(silent)
    assert (
        transcript.transcribable
        and transcript.text == ""
        and transcript.note == "no speech detected"
    )


def test_model_loads_once_and_is_shared(whisper: LocalWhisperTranscriber) -> None:
    again = LocalWhisperTranscriber(
        LocalWhisperConfig(model_dir=default_model_dir(), name="tiny.en")
    )
    assert load_model(again.model_dir) is load_model(whisper.model_dir)
    assert again.engine == whisper.engine


def test_a_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    transcriber = LocalWhisperTranscriber(LocalWhisperConfig(model_dir=tmp_path / "nothing"))
    assert transcriber.engine == "faster-whisper nothing"
    with pytest.raises(TranscriptionError) as error:
        transcriber.transcribe(clips.voice_wav("english"))
    assert error.value.code == "transcription_model_missing"


def test_transcript_round_trips_through_json(whisper: LocalWhisperTranscriber) -> None:
    transcript = whisper.transcribe(clips.voice_wav("english"))
    again = Transcript.from_dict(json.loads(json.dumps(transcript.to_dict())))
    assert again == transcript
