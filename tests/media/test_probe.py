"""Media as it really comes, each file generated with its truth: durations, sizes and times as a
player shows them, damage tolerated and reported, and what is not a video refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from knightvision.analysis.metrics.frames import decode_at
from knightvision.media.frames import extract_frames
from knightvision.media.probe import NotAVideo, probe
from tests.fixtures import clips

FRAME = 1 / 30


def _colour(image: np.ndarray | None) -> tuple[int, int, int]:
    """The mean BGR colour of a decoded picture, as RGB."""
    assert image is not None
    b, g, r = (int(v) for v in image.reshape(-1, 3).mean(axis=0))
    return r, g, b


def _is(image: np.ndarray | None, rgb: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 20 for a, b in zip(_colour(image), rgb, strict=True))


def test_a_cover_frame_over_a_voice_over_lasts_as_long_as_the_voice(tmp_path: Path) -> None:
    path = clips.cover_frame_clip()
    assert probe(path).duration == pytest.approx(12.0, abs=0.05)
    frames = extract_frames(path, tmp_path)
    assert frames.duration_s == pytest.approx(12.0, abs=0.05)
    assert frames.shots[-1]["end_s"] == pytest.approx(12.0, abs=0.05)


def test_non_square_pixels_are_shown_at_their_display_width(tmp_path: Path) -> None:
    path = clips.anamorphic_clip()  # 540x1280 coded, sample aspect ratio 4:3
    info = probe(path)
    assert (info.width, info.height) == (720, 1280)
    assert (info.coded_width, info.sample_aspect_ratio) == (540, "4:3")
    frames = extract_frames(path, tmp_path)
    assert (frames.width, frames.height) == (720, 1280)
    [image] = decode_at(path, [frames.frames[0]["time_s"]], frames.rotation)
    assert image is not None and image.shape[1] / image.shape[0] == pytest.approx(
        720 / 1280, abs=0.01
    )


def test_rotation_metadata_turns_the_display_size(tmp_path: Path) -> None:
    pictures = [(i / 30, clips.flat(clips.RED, (320, 180))) for i in range(30)]
    path = clips.write_media(tmp_path / "rotated.mp4", pictures, rotation=90)
    info = probe(path)
    assert (info.width, info.height, abs(info.rotation)) == (180, 320, 90)


def test_a_video_that_starts_after_its_sound_keeps_its_offset(tmp_path: Path) -> None:
    path = clips.late_video_clip()  # sound from 0 s, video from 1 s, cut at 2.5 s
    info = probe(path)
    assert info.video_start_s == pytest.approx(1.0, abs=0.01)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    frames = extract_frames(path, tmp_path)
    assert frames.cuts == [pytest.approx(2.5, abs=FRAME / 2)]
    assert frames.duration_s == pytest.approx(4.0, abs=0.05)


def test_variable_frame_rate_times_come_from_the_frames_own_timestamps(tmp_path: Path) -> None:
    path = clips.vfr_clip()  # red, a last red picture 10 ms before the cut to blue at 2.0 s
    frames = extract_frames(path, tmp_path)
    assert frames.cuts == [pytest.approx(2.0, abs=0.001), pytest.approx(3.0, abs=0.001)]
    red, blue, green = decode_at(path, [1.99, 2.0, 3.0], frames.rotation)
    assert _is(red, clips.RED) and _is(blue, clips.BLUE) and _is(green, clips.GREEN)
    # every sample the OCR reads shows the shot it is timed in
    times = [f["time_s"] for f in frames.frames]
    for seconds, image in zip(times, decode_at(path, times, frames.rotation), strict=True):
        truth = clips.RED if seconds < 2.0 else clips.BLUE if seconds < 3.0 else clips.GREEN
        assert _is(image, truth), seconds


def test_a_file_cut_short_is_analysed_as_far_as_it_plays_and_says_so(tmp_path: Path) -> None:
    path = clips.damaged_copy(clips.intact_clip(), "cut-short.mp4", keep=0.6)
    info = probe(path)
    assert info.stated_duration == pytest.approx(6.0, abs=0.05)
    assert info.duration < 5.0 and info.truncated
    frames = extract_frames(path, tmp_path)
    [warning] = [w for w in frames.warnings if w["code"] == "truncated"]
    assert warning["stated_duration_s"] == pytest.approx(6.0, abs=0.05)
    assert warning["playable_duration_s"] == pytest.approx(frames.duration_s, abs=0.05)
    assert not probe(clips.intact_clip()).truncated


def test_corrupted_bytes_are_skipped_as_players_skip_them(tmp_path: Path) -> None:
    path = clips.damaged_copy(clips.intact_clip(), "corrupted.mp4", corrupt=400)
    frames = extract_frames(path, tmp_path)
    assert frames.duration_s == pytest.approx(6.0, abs=0.05)
    assert frames.cuts == [pytest.approx(3.0, abs=FRAME / 2)]  # the cut survives the damage
    [warning] = [w for w in frames.warnings if w["code"] == "decode_errors"]
    assert warning["count"] >= 1
    assert extract_frames(clips.intact_clip(), tmp_path / "intact").warnings == []


@pytest.mark.parametrize(
    "make",
    [clips.png_as_mp4, clips.still_image_as_mp4],
    ids=["png-renamed-mp4", "jpeg-renamed-mp4"],
)
def test_a_picture_renamed_as_a_video_is_not_a_video(
    make: Callable[[], Path], tmp_path: Path
) -> None:
    with pytest.raises(NotAVideo, match="still image"):
        probe(make())
    with pytest.raises(NotAVideo):
        extract_frames(make(), tmp_path)


def test_files_without_a_video_are_refused(tmp_path: Path) -> None:
    sound = tmp_path / "sound.wav"
    clips.write_wav(sound, clips.tone(1.0, 0.1), 48_000)
    with pytest.raises(NotAVideo, match="no video stream"):
        probe(sound)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"<html>no video here</html>" * 100)
    with pytest.raises(NotAVideo):
        probe(garbage)


@pytest.mark.parametrize(
    ("codec", "container_format", "options"),
    [
        ("libx265", "mp4", {}),
        ("libvpx-vp9", "webm", {}),
        ("libvpx-vp9", "webm", {"live": "1"}),  # a live recording: no duration in the header
    ],
    ids=["hevc-mp4", "vp9-webm", "live-webm-no-duration"],
)
def test_other_codecs_and_a_live_webm_are_measured(
    codec: str, container_format: str, options: dict[str, str], tmp_path: Path
) -> None:
    import av

    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    pictures = [(i / 30, clips.flat(clips.RED if i < 45 else clips.BLUE)) for i in range(90)]
    path = clips.write_media(
        tmp_path / f"clip.{container_format}",
        pictures,
        codec=codec,
        container_format=container_format,
        end=3.0,
        options=options,
    )
    info = probe(path)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert (info.stated_duration is None) == bool(options)
    frames = extract_frames(path, tmp_path / "frames")
    assert frames.cuts == [pytest.approx(1.5, abs=FRAME / 2)]
    assert frames.duration_s == pytest.approx(3.0, abs=0.05) and frames.warnings == []
