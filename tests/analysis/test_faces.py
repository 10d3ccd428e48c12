"""Face intervals refined to the frame: a faceless shot, a cut to a face, a cut away, neither on
a whole second (sampling once a second alone is up to a second off)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.analysis.metrics import measure
from knightvision.analysis.metrics.faces import face_intervals, has_face
from knightvision.analysis.metrics.frames import decode_at
from knightvision.media.frames import extract_frames
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import clips

SILENT = Transcript(
    text="", language=None, language_probability=None, segments=[], words=[], engine="none"
)


@pytest.fixture(scope="module")
def clip() -> clips.FaceCutClip:
    made = clips.face_cut_clip()
    if made is None:
        pytest.skip("scikit-image's astronaut portrait is not installed")
    return made


def test_face_intervals_are_exact_to_a_frame_near_cuts(clip: clips.FaceCutClip) -> None:
    times = [float(t) for t in range(5)]  # the cheap once-a-second samples
    flags = [has_face(image) for image in decode_at(clip.path, times, 0) if image is not None]
    assert flags == [False, False, False, True, True]  # 2.37 s and 4.57 s fall between samples
    [interval] = face_intervals(clip.path, times, flags, 5.0, 0)
    assert interval["start_s"] == pytest.approx(clip.face_from, abs=clip.frame_s / 2)
    assert interval["end_s"] == pytest.approx(clip.face_until, abs=clip.frame_s / 2)


def test_measure_reports_the_refined_first_face_and_intervals(
    clip: clips.FaceCutClip, tmp_path: Path
) -> None:
    metrics = measure(clip.path, extract_frames(clip.path, tmp_path), SILENT)
    assert metrics["first_face_s"] == pytest.approx(clip.face_from, abs=clip.frame_s / 2)
    [interval] = metrics["face_intervals"]
    assert (interval["start_s"], interval["end_s"]) == (
        pytest.approx(clip.face_from, abs=clip.frame_s / 2),
        pytest.approx(clip.face_until, abs=clip.frame_s / 2),
    )
    assert all(clip.face_from <= t < clip.face_until for t in metrics["face_times_s"])


def test_changes_before_the_first_and_after_the_last_sample_are_found(
    clip: clips.FaceCutClip,
) -> None:
    # one sample with a face: it appeared before it and leaves before the end
    [interval] = face_intervals(clip.path, [3.0], [True], 5.0, 0)
    assert interval["start_s"] == pytest.approx(clip.face_from, abs=clip.frame_s / 2)
    assert interval["end_s"] == pytest.approx(clip.face_until, abs=clip.frame_s / 2)
    # still on screen at the end of the span looked at: the interval runs to it
    assert face_intervals(clip.path, [3.0, 4.0], [True, True], 4.5, 0)[0]["end_s"] == 4.5
    assert face_intervals(clip.path, [0.0, 1.0], [False, False], 5.0, 0) == []
