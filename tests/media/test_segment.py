"""Cutting a finalize segment with PyAV: exact length on both streams, the right frames, stills."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from knightvision.media.segment import SegmentError, cut_segment, extract_stills
from tests.fakes.media import make_mp4
from tests.fixtures.render_probe import decode_frames, probe


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 2 fps: frame i shows green level (i * 37) % 256, so a frame's time is readable from its pixels
    return make_mp4(tmp_path_factory.mktemp("segment") / "source.mp4", 320, 180, 8)


@pytest.mark.parametrize(("start", "end"), [(3, 5), (0, 4), (4, 8)])
def test_cut_is_exact(source: Path, tmp_path: Path, start: int, end: int) -> None:
    info = cut_segment(source, tmp_path / "cut.mp4", start, end)
    assert abs(info.duration - (end - start)) <= 0.05 and (info.width, info.height) == (320, 180)
    streams = probe(tmp_path / "cut.mp4")
    assert abs(streams["audio_duration"] - (end - start)) <= 0.05
    first = decode_frames(tmp_path / "cut.mp4", {0})[0]
    assert (
        abs(int(first[90, 160, 1]) - (start * 2 * 37) % 256) <= 6
    )  # it starts on the frame at `start`


def test_stills_are_spread_over_the_segment(source: Path, tmp_path: Path) -> None:
    cut_segment(source, tmp_path / "cut.mp4", 2, 6)
    stills = extract_stills(tmp_path / "cut.mp4", tmp_path / "stills", 3, stem="reference")
    assert [p.name for p in stills] == ["reference_0.png", "reference_1.png", "reference_2.png"]
    greens = [int(np.asarray(Image.open(p))[90, 160, 1]) for p in stills]
    assert len(set(greens)) == 3 and Image.open(stills[0]).size == (320, 180)


@pytest.mark.parametrize(("start", "end"), [(6, 9), (3, 3), (-1, 2)])
def test_impossible_spans_fail(source: Path, tmp_path: Path, start: int, end: int) -> None:
    with pytest.raises(SegmentError):
        cut_segment(source, tmp_path / "cut.mp4", start, end)
    assert not (tmp_path / "cut.mp4").exists()


def test_unreadable_sources_fail(tmp_path: Path) -> None:
    with pytest.raises(SegmentError):
        cut_segment(tmp_path / "missing.mp4", tmp_path / "cut.mp4", 0, 1)
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(SegmentError):
        cut_segment(tmp_path / "junk.mp4", tmp_path / "cut.mp4", 0, 1)
    with pytest.raises(SegmentError):
        extract_stills(tmp_path / "junk.mp4", tmp_path / "stills")
