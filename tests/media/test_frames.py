"""The frames stage on clips with known cuts: cut times, keyframes, thumbnails, JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from knightvision.media.frames import FrameSet, extract_frames, rotate_image
from knightvision.media.probe import probe
from tests.fixtures import clips

TOLERANCE = 0.2


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory) -> tuple[clips.CutsClip, FrameSet]:
    clip = clips.cuts_clip()
    return clip, extract_frames(clip.path, tmp_path_factory.mktemp("cuts-frames"))


@pytest.fixture(scope="module")
def ad(tmp_path_factory: pytest.TempPathFactory) -> tuple[clips.StoryboardAd, FrameSet]:
    clip = clips.storyboard_ad()
    return clip, extract_frames(clip.path, tmp_path_factory.mktemp("ad-frames"))


def _near(found: list[float], truth: float) -> bool:
    return any(abs(t - truth) <= TOLERANCE for t in found)


def test_hard_cuts_and_a_dissolve_are_found_at_their_times(
    cuts: tuple[clips.CutsClip, FrameSet],
) -> None:
    clip, frames = cuts
    truth = sorted(clip.hard_cuts + clip.gradual_cuts)
    assert len(frames.cuts) == len(truth), frames.transitions  # the gliding bar is not a cut
    for found, expected in zip(frames.cuts, truth, strict=True):
        assert abs(found - expected) <= TOLERANCE, (found, expected)
    kinds = {round(t["time_s"]): t["kind"] for t in frames.transitions}
    assert kinds[round(clip.gradual_cuts[0])] == "gradual"
    assert all(kinds[round(c)] == "hard" for c in clip.hard_cuts)
    # hard cuts land on the exact frame
    assert all(min(abs(c - h) for c in frames.cuts) < 0.04 for h in clip.hard_cuts)


def test_storyboard_crossfades_are_cuts(ad: tuple[clips.StoryboardAd, FrameSet]) -> None:
    clip, frames = ad
    starts = [scene.start for scene in clip.scenes[1:]]
    assert len(frames.cuts) == len(starts), (frames.cuts, starts)
    for scene_start in starts:
        assert _near(frames.cuts, scene_start + 0.15), (
            frames.cuts,
            scene_start,
        )  # 0.3 s fade's centre


def test_shots_cover_the_video_and_keyframes_sit_mid_shot(
    cuts: tuple[clips.CutsClip, FrameSet],
) -> None:
    clip, frames = cuts
    assert frames.shots[0]["start_s"] == 0.0
    assert frames.shots[-1]["end_s"] == pytest.approx(clip.duration, abs=0.05)
    for before, after in zip(frames.shots, frames.shots[1:], strict=False):
        assert before["end_s"] == after["start_s"]
    keyframes = [f for f in frames.frames if f["kind"] == "shot"]
    assert [f["shot"] for f in keyframes] == [s["index"] for s in frames.shots]
    for frame, shot in zip(keyframes, frames.shots, strict=True):
        assert shot["start_s"] <= frame["time_s"] < shot["end_s"]
        assert abs(frame["time_s"] - (shot["start_s"] + shot["end_s"]) / 2) <= 0.2


def test_regular_samples_every_second(cuts: tuple[clips.CutsClip, FrameSet]) -> None:
    clip, frames = cuts
    times = frames.frame_times()
    assert times == sorted(times)
    for second in range(int(clip.duration)):
        # one frame per second of video (a sample may move off a dissolve, within its second)
        assert any(second - 1e-6 <= t < second + 1 for t in times), second
    assert frames.sample_interval_s == 1.0


def test_thumbnails_are_320_wide_jpegs_of_the_right_moment(
    cuts: tuple[clips.CutsClip, FrameSet],
) -> None:
    _, frames = cuts
    for frame in frames.frames:
        image = Image.open(frame["path"])
        assert image.format == "JPEG" and image.width == 320 and image.height == 240
    first = next(f for f in frames.frames if f["time_s"] < 1.0)
    red = np.asarray(Image.open(first["path"]).convert("RGB"))[10:60, 10:60].mean(axis=(0, 1))
    assert red[0] > 150 and red[2] < 90  # the red opening shot


def test_portrait_thumbnails_keep_their_aspect(ad: tuple[clips.StoryboardAd, FrameSet]) -> None:
    _, frames = ad
    image = Image.open(frames.frames[0]["path"])
    assert (image.width, image.height) == (320, 568)
    assert (frames.width, frames.height, frames.fps) == (720, 1280, 30.0)


def test_frameset_round_trips_through_json(cuts: tuple[clips.CutsClip, FrameSet]) -> None:
    _, frames = cuts
    again = FrameSet.from_dict(json.loads(json.dumps(frames.to_dict())))
    assert again == frames
    assert set(frames.timings) >= {"decode_detect_s", "total_s"}


def test_sample_cap_widens_the_interval(tmp_path: Path) -> None:
    frames = extract_frames(clips.cuts_clip().path, tmp_path, max_samples=4)
    assert frames.sample_interval_s == pytest.approx(2.0)
    assert len([f for f in frames.frames if f["kind"] == "sample"]) <= 4


def test_not_a_video_fails_clearly(tmp_path: Path) -> None:
    wav = clips.write_wav(tmp_path / "tone.wav", clips.tone(1.0, 0.1), 48_000)
    with pytest.raises(ValueError, match="no video stream"):
        extract_frames(wav, tmp_path / "out")


def test_rotate_image_turns_counter_clockwise() -> None:
    image = np.arange(6).reshape(2, 3)
    assert rotate_image(image, 0) is image
    assert rotate_image(image, 90).shape == (3, 2)
    assert rotate_image(image, 90)[0, 0] == 2
    assert np.array_equal(rotate_image(image, -90), rotate_image(image, 270))


def test_probe_reports_rate_and_audio_layout() -> None:
    info = probe(clips.face_clip().path) if clips.face_clip() else None
    silent = probe(clips.cuts_clip().path)
    assert silent.fps == 30.0 and not silent.has_audio and silent.audio_channels == 0
    if info is not None:
        assert info.has_audio and info.audio_channels == 1 and info.audio_sample_rate == 48_000
