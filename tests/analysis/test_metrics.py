"""D18 measured facts on media with known truth (rendered ads, PyAV clips, generated tones)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knightvision.analysis.metrics import (
    audio_levels,
    decode_audio,
    find_call_to_action,
    measure,
)
from knightvision.analysis.metrics.measure import aspect_facts
from knightvision.analysis.metrics.text import text_spans
from knightvision.media.frames import extract_frames
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import clips
from tests.fixtures.clips import similar


@pytest.fixture(scope="module")
def face_metrics(tmp_path_factory: pytest.TempPathFactory) -> tuple[clips.FaceClip, dict[str, Any]]:
    clip = clips.face_clip()
    if clip is None:
        pytest.skip("scikit-image (astronaut.png, a real face) is not installed")
    frames = extract_frames(clip.path, tmp_path_factory.mktemp("face-frames"))
    silent = Transcript.empty("test", "no speech detected")
    return clip, measure(clip.path, frames, silent)


# --- the rendered ad --------------------------------------------------------------------------


def test_file_facts(ad: clips.MeasuredAd) -> None:
    m = ad.metrics
    assert m["duration_s"] == pytest.approx(12.0, abs=0.05)
    assert m["size_bytes"] == ad.ad.path.stat().st_size
    assert (m["width"], m["height"], m["fps"], m["has_audio"]) == (720, 1280, 30.0, True)
    assert (m["aspect_ratio"], m["aspect_ratio_exact"], m["aspect_ratio_value"]) == (
        "9:16",
        "9:16",
        0.5625,
    )
    json.dumps(m)  # plain JSON data, checkpointable


def test_cuts_and_pacing(ad: clips.MeasuredAd) -> None:
    m, scenes = ad.metrics, ad.ad.scenes
    assert len(m["scene_cuts"]) == len(scenes) - 1
    for cut, scene in zip(m["scene_cuts"], scenes[1:], strict=True):
        assert cut == pytest.approx(scene.start + 0.15, abs=0.2)  # centre of the 0.3 s cross-fade
    assert m["shot_count"] == len(scenes)
    assert m["average_shot_length_s"] == pytest.approx(12.0 / len(scenes), abs=0.01)
    assert m["cuts_per_10s"] == pytest.approx((len(scenes) - 1) / 12 * 10, abs=0.01)
    assert m["first_cut_s"] == m["scene_cuts"][0]


def test_captions_are_read_with_their_times(ad: clips.MeasuredAd) -> None:
    """Each scene's caption is read while the scene shows it (the hook's words pop in one by one:
    one caption from its first word); the end card's button is read to the last frame; nothing
    is read that the ad did not draw."""
    spans = ad.metrics["on_screen_text"]
    *captioned, end_card = ad.ad.scenes
    for scene in captioned:
        match = max(spans, key=lambda span: similar(scene.text, span["text"]))
        assert similar(scene.text, match["text"]) >= 0.9, (scene.text, spans)
        assert match["start_s"] == pytest.approx(
            scene.start if scene.start == 0 else scene.start + 0.15, abs=0.3
        )
        assert match["end_s"] == pytest.approx(scene.end + 0.15, abs=0.3)
    [button] = [span for span in spans if span["text"] == "Order today"]
    assert button["start_s"] == pytest.approx(end_card.start + 0.15, abs=0.3)
    assert button["end_s"] == 12.0
    # The captions, the product's name in large type, the end card's title, offer and button:
    # every word read is a word the ad drew (all of them come from the prompt).
    drawn = set(re.findall(r"[a-z]+", clips.AD_PROMPT.lower()))
    for span in spans:
        read = re.findall(r"[a-z]+", span["text"].lower())
        assert read and set(read) <= drawn, span


def test_speech_facts(ad: clips.MeasuredAd) -> None:
    m = ad.metrics
    assert m["speech_start_s"] == pytest.approx(ad.ad.speech_lead, abs=0.2)
    truth_words = len(clips.AD_PROMPT.split())
    assert abs(m["word_count"] - truth_words) <= 3
    # The rate over the time spent speaking, not over the pauses between the sentences: faster
    # than words over the whole stretch from first to last word, and close to the rate over the
    # voice-activity spans (an independent measure of speaking time: the two agree within ~10%).
    words = ad.transcript.words
    stretch = words[-1]["end"] - words[0]["start"]
    assert m["words_per_minute"] > m["word_count"] / stretch * 60
    speaking = sum(span["end"] - span["start"] for span in ad.transcript.speech_spans)
    expected_wpm = m["word_count"] / speaking * 60
    assert m["words_per_minute"] == pytest.approx(expected_wpm, rel=0.12)
    assert 90 <= m["words_per_minute"] <= 220
    assert m["transcribable"] is True and m["language"] == "en"


def test_spoken_and_on_screen_languages(ad: clips.MeasuredAd) -> None:
    """Both languages side by side in ``languages``; the older ``language`` string is kept."""
    languages = ad.metrics["languages"]
    assert (languages["spoken"], languages["on_screen"], languages["same"]) == ("en", "en", True)
    assert languages["spoken_detected"] is (ad.transcript.language_probability is not None)
    assert languages["on_screen_confidence"] >= 0.8 and languages["low_confidence"] == []
    assert ad.metrics["language"] == "en"
    assert ad.metrics["engines"]["on_screen_language"] == "py3langid"


def test_call_to_action_is_said_and_shown(ad: clips.MeasuredAd) -> None:
    cta = ad.metrics["call_to_action"]
    last = ad.ad.scenes[-1]
    assert cta["phrase"] == "order today" and cta["strength"] == "strong"
    assert cta["sources"] == ["speech", "overlay"]
    assert cta["time_s"] == pytest.approx(last.start + 0.15, abs=0.3)
    # the end card's button, held to the last frame
    assert (cta["text"], cta["kind"], cta["to_last_frame"]) == ("Order today", "end_card", True)


def test_no_faces_in_the_storyboard(ad: clips.MeasuredAd) -> None:
    m = ad.metrics
    assert m["face_frame_share"] == 0.0 and m["first_face_s"] is None and m["face_times_s"] == []
    assert len(m["sampled_frame_times_s"]) >= 12  # one a second plus the keyframes


def test_loudness_and_silence_of_the_voice_over(ad: clips.MeasuredAd) -> None:
    """Voice over a music bed, mixed to the social platforms' -14 LUFS: no dead air."""
    m = ad.metrics
    assert -15 < m["loudness_lufs"] < -13
    assert m["silence_ratio"] < 0.1


def test_timings_and_engines_are_reported(ad: clips.MeasuredAd) -> None:
    timings = ad.metrics["timings"]
    assert {"decode_frames_s", "ocr_s", "faces_s", "audio_s", "total_s"} <= set(timings)
    assert all(value >= 0 for value in timings.values())
    assert ad.metrics["engines"]["transcript"] == "faster-whisper base"


# --- faces, loudness and silence on a generated clip -----------------------------------------


def test_a_face_is_found_from_when_it_appears(
    face_metrics: tuple[clips.FaceClip, dict[str, Any]],
) -> None:
    clip, m = face_metrics
    assert m["first_face_s"] == pytest.approx(clip.face_from, abs=0.3)
    sampled = m["sampled_frame_times_s"]
    truth = sum(t >= clip.face_from for t in sampled) / len(sampled)
    assert m["face_frame_share"] == pytest.approx(truth, abs=0.01)
    assert all(t >= clip.face_from - 0.05 for t in m["face_times_s"])  # no face before the photo


def test_tone_loudness_and_half_silence(
    face_metrics: tuple[clips.FaceClip, dict[str, Any]],
) -> None:
    _, m = face_metrics
    # 997 Hz sine at amplitude 0.1 (mono): 20*log10(0.1) - 3.01 = -23.0 LUFS; the silent half is
    # gated out
    assert m["loudness_lufs"] == pytest.approx(-23.0, abs=0.5)
    assert m["silence_ratio"] == pytest.approx(0.5, abs=0.05)
    assert m["speech_start_s"] is None and m["word_count"] == 0 and m["words_per_minute"] is None


def test_audio_levels_on_exact_signals() -> None:
    rate = 48_000
    assert audio_levels(clips.tone(4.0, 0.1, rate), rate)["loudness_lufs"] == pytest.approx(
        -23.0, abs=0.1
    )
    half = np.concatenate([clips.tone(2.0, 0.1, rate), np.zeros(2 * rate, np.float32)])
    assert audio_levels(half, rate)["silence_ratio"] == pytest.approx(0.5, abs=0.01)
    quiet = audio_levels(np.zeros(3 * rate, np.float32), rate)
    assert quiet == {
        "loudness_lufs": None,
        "silence_ratio": 1.0,
        "audio_peak_dbfs": None,
        "clipping_ratio": 0.0,
    }
    stereo = np.stack([clips.tone(4.0, 0.1, rate)] * 2, axis=1)
    assert audio_levels(stereo, rate)["loudness_lufs"] == pytest.approx(
        -20.0, abs=0.1
    )  # two channels sum


def test_decode_audio_keeps_rate_and_mono(tmp_path: Path) -> None:
    wav = clips.write_wav(tmp_path / "t.wav", clips.tone(1.0, 0.5, 22_050), 22_050)
    samples, rate = decode_audio(wav)
    assert rate == 22_050 and samples.shape == (22_050, 1)


# --- no audio ----------------------------------------------------------------------------------


def test_video_without_audio(tmp_path: Path) -> None:
    clip = clips.cuts_clip()
    frames = extract_frames(clip.path, tmp_path)
    transcript = Transcript.empty("faster-whisper tiny.en", "no audio track", has_audio=False)
    m = measure(clip.path, frames, transcript)
    assert m["has_audio"] is False and m["loudness_lufs"] is None and m["silence_ratio"] is None
    assert m["speech_start_s"] is None and m["word_count"] == 0 and m["words_per_minute"] is None
    assert (
        m["on_screen_text"] == [] and m["call_to_action"] is None and m["face_frame_share"] == 0.0
    )
    assert m["aspect_ratio_exact"] == "4:3"
    assert m["shot_count"] == 5


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "nearest", "exact"),
    [
        ((720, 1280), "9:16", "9:16"),
        ((1920, 1080), "16:9", "16:9"),
        ((1080, 1350), "4:5", "4:5"),
        ((1000, 1000), "1:1", "1:1"),
        ((600, 500), "1:1", "6:5"),
        ((886, 1920), "9:16", "443:960"),
    ],
)
def test_aspect_ratio(size: tuple[int, int], nearest: str, exact: str) -> None:
    facts = aspect_facts(*size)
    assert (facts["aspect_ratio"], facts["aspect_ratio_exact"]) == (nearest, exact)


def _transcript(
    words: list[tuple[float, str]], *, low: bool = False, transcribable: bool = True
) -> Transcript:
    text = " ".join(w for _, w in words)
    end = words[-1][0] + 0.3 if words else 0.0
    return Transcript(
        text=text if transcribable else "",
        language="en",
        language_probability=None,
        segments=[
            {
                "start": words[0][0],
                "end": end,
                "text": text,
                "avg_logprob": -0.2,
                "low_confidence": low,
            }
        ]
        if words and transcribable
        else [],
        words=[{"start": t, "end": t + 0.3, "word": w, "probability": 0.9} for t, w in words]
        if transcribable
        else [],
        engine="test",
        transcribable=transcribable,
    )


def _said(start: float, sentence: str) -> list[tuple[float, str]]:
    return [(start + 0.3 * i, word) for i, word in enumerate(sentence.split())]


def test_cta_prefers_the_last_third_and_strong_phrases() -> None:
    transcript = _transcript(
        _said(1.0, "Sign up for our newsletter.")
        + _said(25.0, "Download the app and try it free today.")
    )
    spans = [{"start_s": 12.0, "end_s": 14.0, "text": "Order yours"}]
    cta = find_call_to_action(transcript, spans, 30.0)
    assert (cta["phrase"], cta["time_s"], cta["source"]) == ("download the app", 25.0, "speech")
    assert cta["text"] == "Download the app and try it free today."
    early_only = find_call_to_action(_transcript(_said(1.0, "Sign up now.")), [], 30.0)
    assert (early_only["phrase"], early_only["time_s"]) == (
        "sign up",
        1.0,
    )  # nothing late: the earliest
    weak = find_call_to_action(_transcript(_said(2.0, "We deliver every order fast.")), [], 30.0)
    assert (weak["phrase"], weak["strength"]) == ("order", "weak")


def test_cta_reads_promo_codes_and_overlays() -> None:
    spans = [{"start_s": 20.0, "end_s": 24.0, "text": "Use code SAVE20 at checkout"}]
    cta = find_call_to_action(_transcript([]), spans, 24.0)
    assert (cta["phrase"], cta["source"], cta["time_s"], cta["sources"]) == (
        "use code SAVE20",
        "overlay",
        20.0,
        ["overlay"],
    )


def test_cta_ignores_speech_that_is_not_trusted() -> None:
    doubtful = _transcript(_said(20.0, "Shop now at our store."), low=True)
    assert find_call_to_action(doubtful, [], 24.0) is None
    withheld = _transcript(_said(20.0, "Shop now."), transcribable=False)
    assert find_call_to_action(withheld, [], 24.0) is None
    assert find_call_to_action(_transcript([]), [], 24.0) is None


def test_a_caption_that_builds_up_word_by_word_is_one_span_from_its_first_word() -> None:
    times = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    readings = [["Tired"], ["Tired of"], ["Tired of cold coffee?"], ["Tired of cold coffee?"], [],
                ["Tired of it"]]  # fmt: skip
    spans = text_spans(times, readings, cuts=[], duration=3.0)
    assert spans == [
        {"start_s": 0.0, "end_s": 1.75, "text": "Tired of cold coffee?"},
        {"start_s": 2.25, "end_s": 3.0, "text": "Tired of it"},
    ]


def test_text_spans_merge_near_identical_readings_and_snap_to_cuts() -> None:
    times = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    readings = [
        ["Big SALE today"],
        ["Big SALE today"],
        ["Big SALE t0day"],
        ["Shop now"],
        ["Shop now", "www.example.com"],
        [],
    ]
    spans = text_spans(times, readings, cuts=[2.6], duration=6.0)
    assert spans == [
        {"start_s": 0.0, "end_s": 2.6, "text": "Big SALE today"},
        {"start_s": 2.6, "end_s": 4.5, "text": "Shop now"},
        {"start_s": 3.5, "end_s": 4.5, "text": "www.example.com"},
    ]
