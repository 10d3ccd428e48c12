"""The breakdown (hook, scenes, call to action) of a rendered ad, and of hand-built measurements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knightvision.analysis.breakdown import build_breakdown
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import clips
from tests.fixtures.clips import similar


@pytest.fixture(scope="module")
def breakdown(ad: clips.MeasuredAd) -> dict:
    return build_breakdown(ad.metrics, ad.transcript, ad.frames)


def test_hook_is_what_the_first_three_seconds_show_and_say(
    ad: clips.MeasuredAd, breakdown: dict
) -> None:
    hook = breakdown["hook"]
    first, second = ad.ad.scenes[0], ad.ad.scenes[1]
    assert (hook["start_s"], hook["end_s"]) == (0.0, 3.0)
    assert similar(first.text, hook["seen"]["on_screen_text"][0]) >= 0.9
    assert hook["seen"]["face"] is False
    assert similar(first.text, " ".join(hook["said"].split()[:4])) >= 0.75, hook["said"]
    assert hook["speech_heard"] is True
    # the second scene starts before 3 s, so its shot, caption and first words belong to the hook
    assert second.start < 3.0
    assert [shot["index"] for shot in hook["shown"]["shots"]] == [0, 1]
    assert hook["shown"]["cuts_s"] == [c for c in ad.metrics["scene_cuts"] if c < 3.0]
    assert all(Path(shot["keyframe"]).is_file() for shot in hook["shown"]["shots"])


def test_scenes_follow_the_cuts_with_their_text_and_speech(
    ad: clips.MeasuredAd, breakdown: dict
) -> None:
    scenes = breakdown["scenes"]
    assert len(scenes) == len(ad.ad.scenes)
    assert scenes[0]["start_s"] == 0.0 and scenes[-1]["end_s"] == ad.metrics["duration_s"]
    for scene, truth in zip(scenes, ad.ad.scenes, strict=True):
        assert scene["duration_s"] == pytest.approx(scene["end_s"] - scene["start_s"], abs=0.002)
        shown = "Order today" if truth is ad.ad.scenes[-1] else truth.text  # the end card's button
        assert any(similar(shown, text) >= 0.9 for text in scene["on_screen_text"]), (shown, scene)
        assert similar(truth.text, scene["speech"]) >= 0.6, (truth.text, scene["speech"])
        assert scene["speech_heard"] is True and scene["face"] is False
        assert Path(scene["keyframe"]).is_file()


def test_call_to_action_is_the_measured_one(ad: clips.MeasuredAd, breakdown: dict) -> None:
    assert breakdown["call_to_action"] == ad.metrics["call_to_action"]
    json.dumps(breakdown)


def test_works_from_checkpointed_json(ad: clips.MeasuredAd, breakdown: dict) -> None:
    again = build_breakdown(
        json.loads(json.dumps(ad.metrics)),
        json.loads(json.dumps(ad.transcript.to_dict())),
        json.loads(json.dumps(ad.frames.to_dict())),
    )
    assert again == breakdown


METRICS = {
    "duration_s": 10.0,
    "scene_cuts": [4.0],
    "on_screen_text": [
        {"start_s": 0.0, "end_s": 4.0, "text": "Hola"},
        {"start_s": 8.0, "end_s": 10.0, "text": "Compra ya"},
    ],
    "sampled_frame_times_s": [0.0, 1.0, 2.0, 4.0, 6.0, 8.0],
    "face_times_s": [6.0],
    "call_to_action": None,
}


def test_untranscribable_speech_is_heard_but_never_quoted() -> None:
    transcript = Transcript(
        text="",
        language=None,
        language_probability=None,
        segments=[],
        words=[],
        engine="faster-whisper tiny.en",
        transcribable=False,
        note="speech heard but not transcribable",
        speech_spans=[{"start": 0.5, "end": 2.0}],
    )
    result = build_breakdown(METRICS, transcript, hook_seconds=3.0)
    hook = result["hook"]
    assert hook["said"] == "" and hook["speech_heard"] is True
    assert hook["seen"] == {"on_screen_text": ["Hola"], "face": False}
    assert hook["shown"]["shots"] == [{"index": 0, "start_s": 0.0, "end_s": 4.0}]
    first, second = result["scenes"]
    assert (first["speech_heard"], second["speech_heard"]) == (True, False)
    assert second["face"] is True and second["on_screen_text"] == ["Compra ya"]
    assert result["call_to_action"] is None


def test_segments_stand_in_for_missing_word_times() -> None:
    transcript = Transcript(
        text="Buy now. Thanks.",
        language="en",
        language_probability=None,
        segments=[
            {"start": 1.0, "end": 2.0, "text": "Buy now."},
            {"start": 5.0, "end": 6.0, "text": "Thanks."},
        ],
        words=[],
        engine="openai gpt-4o-transcribe",
    )
    result = build_breakdown({**METRICS, "sampled_frame_times_s": []}, transcript)
    assert result["hook"]["said"] == "Buy now."
    assert result["hook"]["seen"]["face"] is None  # no frame was sampled there: unknown, not "no"
    assert [scene["speech"] for scene in result["scenes"]] == ["Buy now.", "Thanks."]
