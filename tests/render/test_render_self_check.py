"""Our renders checked by our own eyes and ears: a set of prompts (short, numbers, a presenter,
a script our voice cannot read; each aspect) rendered, then measured by the ad analysis as a
partner's ad would be. A contact sheet of each render is saved under ``test-artifacts/`` (or
``$KNIGHTVISION_TEST_ARTIFACTS``) for people to look at."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from knightvision.render import RenderReport, RenderSpec, load_voice, render_storyboard
from knightvision.render.storyboard import voice_can_say
from tests.fixtures.clips import similar
from tests.fixtures.wer import word_error_rate

CASES: dict[str, dict[str, Any]] = {
    "short-9x16": {"prompt": "A person walking through a futuristic city", "duration": 6,
                   "width": 720, "height": 1280},
    "numbers-1x1": {"prompt": "Tired of cold coffee? Meet the HeatMug. Rated 4.8 stars by 12,000 "
                    "customers. Get 20% off today. Shop now at heatmug.com", "duration": 12,
                    "width": 720, "height": 720},
    "presenter-16x9": {"prompt": "Meet Maya. She tried every planner and none stuck. This one "
                       "finally did. Order yours today.", "duration": 9, "width": 1280,
                       "height": 720,
                       "presenters": ("A friendly woman with short dark hair in a green sweater",)},
    "japanese-9x16": {"prompt": "冷たいコーヒーにさよなら。このマグは一日中温かい。今すぐ注文。",
                      "duration": 6, "width": 720, "height": 1280},
}  # fmt: skip
#: Loudness the mix is normalised to (the platforms' -14 LUFS), as our analysis measures it back
#: from the encoded AAC, with room for the encoder and a short render's gating.
LOUDNESS_LUFS = (-15.5, -12.5)
MAX_SILENCE = 0.2
#: Words the analysis may mishear in our voice (an invented brand or address read aloud).
MAX_WER = 0.3


@dataclass
class Checked:
    report: RenderReport
    metrics: dict[str, Any]
    transcript: dict[str, Any]


def _artifacts() -> Path:
    root = Path(os.environ.get("KNIGHTVISION_TEST_ARTIFACTS", "test-artifacts")) / "renders"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _contact_sheet(frames: list[dict[str, Any]], path: Path) -> None:
    """The analysis' keyframes side by side, 240 px high."""
    pictures = [Image.open(frame["path"]) for frame in frames]
    thumbs = [p.resize((max(1, p.width * 240 // p.height), 240)) for p in pictures]
    sheet = Image.new("RGB", (sum(t.width for t in thumbs), 240))
    x = 0
    for thumb in thumbs:
        sheet.paste(thumb, (x, 0))
        x += thumb.width
    sheet.save(path)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Checked]:
    from knightvision.analysis.metrics import measure
    from knightvision.analysis.reconcile import reconcile_metrics
    from knightvision.media.frames import extract_frames
    from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber

    root, voice = tmp_path_factory.mktemp("self-check"), load_voice()
    transcriber = LocalWhisperTranscriber()
    out: dict[str, Checked] = {}
    for name, options in CASES.items():
        video = root / f"{name}.mp4"
        report = render_storyboard(RenderSpec(**options), video, voice=voice)
        frames = extract_frames(video, root / name)
        raw = transcriber.transcribe(video).to_dict()
        metrics = measure(video, frames, raw)
        transcript = reconcile_metrics(metrics, raw)
        keyframes = [frame for frame in frames.frames if frame["kind"] == "shot"]
        _contact_sheet(keyframes, _artifacts() / f"{name}.png")
        out[name] = Checked(report, metrics, transcript)
    return out


@pytest.mark.parametrize("name", CASES)
def test_sound_is_loud_enough_with_no_dead_air(checked: dict[str, Checked], name: str) -> None:
    metrics = checked[name].metrics
    assert LOUDNESS_LUFS[0] < metrics["loudness_lufs"] < LOUDNESS_LUFS[1], metrics["loudness_lufs"]
    assert metrics["silence_ratio"] <= MAX_SILENCE


@pytest.mark.parametrize("name", CASES)
def test_cuts_equal_the_scenes(checked: dict[str, Checked], name: str) -> None:
    assert checked[name].metrics["shot_count"] == len(checked[name].report.scenes)


@pytest.mark.parametrize("name", [name for name in CASES if not name.startswith("japanese")])
def test_captions_read_back_are_the_words_spoken(checked: dict[str, Checked], name: str) -> None:
    """Every scene's caption is read by our OCR, and what our analysis hears is those words."""
    report, metrics = checked[name].report, checked[name].metrics
    shown = [span["text"] for span in metrics["on_screen_text"]]
    for scene in report.scenes[:-1]:  # the end card shows its button and address, read below
        assert max(similar(scene.text, text) for text in shown) >= 0.85, (scene.text, shown)
    said = " ".join(scene.text for scene in report.scenes if scene.speakable)
    assert word_error_rate(said, checked[name].transcript["text"]) <= MAX_WER, (
        said,
        checked[name].transcript["text"],
    )
    assert metrics["call_to_action"] is not None, shown


@pytest.mark.parametrize("name", CASES)
def test_a_face_is_seen_only_with_a_presenter(checked: dict[str, Checked], name: str) -> None:
    faces = checked[name].metrics["face_frame_share"]
    assert faces > 0.1 if CASES[name].get("presenters") else faces == 0.0


def test_a_script_our_voice_cannot_read_is_shown_not_spelled_out(
    checked: dict[str, Checked],
) -> None:
    japanese = checked["japanese-9x16"]
    assert japanese.report.speech_spans == ()
    assert japanese.report.unspoken_text == tuple(
        s.text for s in japanese.report.scenes if not voice_can_say(s.text)
    )
    assert japanese.report.unspoken_text, japanese.report.scenes
    assert "letter" not in japanese.transcript["text"].lower()
    assert japanese.metrics["word_count"] == 0


def test_contact_sheets_are_saved(checked: dict[str, Checked]) -> None:
    for name, options in CASES.items():  # one 240 px high thumbnail per shot
        sheet = Image.open(_artifacts() / f"{name}.png")
        thumb_width = options["width"] * 240 // options["height"]
        assert sheet.size == (thumb_width * len(checked[name].report.scenes), 240), name
