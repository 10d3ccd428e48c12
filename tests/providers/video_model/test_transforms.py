"""Declared transforms on real MP4s (crop, trim, scale) and the render planner that chooses them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knightvision.media.probe import probe
from knightvision.providers.video_model.capabilities import (
    UpstreamCapabilities,
    plan_render,
)
from knightvision.providers.video_model.catalogue import EVOLINK, KIE, KLING, OPENAI
from knightvision.providers.video_model.transforms import (
    ShapeError,
    centre_crop,
    conform,
)
from knightvision.providers.video_model.upstream_http import (
    TaskState,
    UpstreamPolicy,
    poll_until_done,
)
from tests.fakes.media import sample_mp4


def copy_sample(tmp_path: Path, width: int, height: int, seconds: float) -> Path:
    target = tmp_path / f"src_{width}x{height}_{seconds}.mp4"
    shutil.copy(sample_mp4(width, height, seconds), target)
    return target


def test_crop_and_trim_keep_audio(tmp_path: Path) -> None:
    src = copy_sample(tmp_path, 1280, 720, 12)
    applied = conform(src, tmp_path / "out.mp4", width=720, height=720, duration=10)
    info = probe(tmp_path / "out.mp4")
    assert applied == ["crop 1280x720 to centre 720x720", "trim 12.00 s to 10 s"]
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        720,
        720,
        "h264",
        "aac",
    )
    assert abs(info.duration - 10) <= 0.05


def test_scale_down_to_exact_size(tmp_path: Path) -> None:
    src = copy_sample(tmp_path, 720, 1280, 3)
    assert conform(src, tmp_path / "out.mp4", width=360, height=640, duration=3) == [
        "scale 720x1280 to 360x640"
    ]
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height) == (360, 640) and abs(info.duration - 3) <= 0.05


def test_near_aspect_is_cropped_a_little_then_scaled(tmp_path: Path) -> None:
    src = copy_sample(tmp_path, 352, 640, 3)  # like a 704x1280 render for a 720x1280 ask
    applied = conform(src, tmp_path / "out.mp4", width=360, height=640, duration=3)
    assert applied == ["crop 352x640 to centre 352x626", "scale 352x626 to 360x640"]
    assert (probe(tmp_path / "out.mp4").width, probe(tmp_path / "out.mp4").height) == (360, 640)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ((640, 360), (1280, 720)),  # a "1080p"/"720p" job rendered at 360p
        ((320, 180), (720, 720)),  # a square cropped from a small frame
        ((1280, 720), (1920, 1080)),  # 720p delivered for 1080p
    ],
)
def test_a_lower_resolution_is_never_upscaled(
    tmp_path: Path, source: tuple[int, int], target: tuple[int, int]
) -> None:
    src = copy_sample(tmp_path, *source, 1)
    with pytest.raises(ShapeError, match="never upscaled"):
        conform(src, tmp_path / "out.mp4", width=target[0], height=target[1], duration=1)
    assert not (tmp_path / "out.mp4").exists()


def test_right_shape_is_moved_untouched(tmp_path: Path) -> None:
    src = copy_sample(tmp_path, 320, 180, 3)
    size = src.stat().st_size
    assert conform(src, tmp_path / "out.mp4", width=320, height=180, duration=3) == []
    assert not src.exists() and (tmp_path / "out.mp4").stat().st_size == size


def test_too_short_or_not_a_video_is_a_shape_error(tmp_path: Path) -> None:
    with pytest.raises(ShapeError, match="shorter"):
        conform(
            copy_sample(tmp_path, 320, 180, 3),
            tmp_path / "out.mp4",
            width=320,
            height=180,
            duration=5,
        )
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>expired</html>")
    with pytest.raises(ShapeError, match="not a readable video"):
        conform(junk, tmp_path / "out2.mp4", width=320, height=180, duration=3)


def test_centre_crop_geometry() -> None:
    assert centre_crop(1280, 720, 720, 720).__dict__ == {
        "width": 720,
        "height": 720,
        "x": 280,
        "y": 0,
    }
    assert centre_crop(720, 1280, 720, 720).__dict__ == {
        "width": 720,
        "height": 720,
        "x": 0,
        "y": 280,
    }
    assert centre_crop(1920, 1080, 1280, 720) is None


CAPS = UpstreamCapabilities(
    durations=(4, 8, 12),
    aspect_ratios=("16:9", "9:16"),
    resolutions=("720p",),
    max_prompt_chars=100,
)


@pytest.mark.parametrize(
    ("caps", "ask", "plan"),
    [
        (CAPS, (8, "9:16", "720p"), (8, "9:16", "720p", ())),
        (CAPS, (10, "9:16", "720p"), (12, "9:16", "720p", ("trim",))),
        (CAPS, (10, "1:1", "720p"), (12, "16:9", "720p", ("trim", "crop"))),
        (CAPS, (13, "9:16", "720p"), None),
        (CAPS, (8, "9:16", "1080p"), None),  # never upscale
        (
            UpstreamCapabilities((5,), ("16:9",), ("1080p",), 100),
            (5, "16:9", "720p"),
            (5, "16:9", "1080p", ("scale",)),
        ),
        (
            UpstreamCapabilities((5,), ("16:9",), ("1080p",), 100),
            (5, "1:1", "720p"),
            (5, "16:9", "1080p", ("crop", "scale")),
        ),
        (
            UpstreamCapabilities((5,), ("16:9",), ("720p",), 100, crop_to_square=False),
            (5, "1:1", "720p"),
            None,
        ),
        (
            UpstreamCapabilities((10,), ("16:9",), ("720p",), 100, trim=False),
            (5, "16:9", "720p"),
            None,
        ),
    ],
)
def test_plan_render(caps: UpstreamCapabilities, ask: tuple, plan: tuple | None) -> None:
    got = plan_render(caps, *ask)
    assert (
        None if got is None else (got.duration, got.aspect_ratio, got.resolution, got.transforms)
    ) == plan


def test_catalogue_covers_the_contract_natively_where_the_upstream_does() -> None:
    # EvoLink is the contract's own catalogue: no transform except Sora's 1:1 crop.
    assert plan_render(EVOLINK["sora-2"], 15, "9:16", "720p").transforms == ()  # type: ignore[union-attr]
    assert plan_render(EVOLINK["sora-2-pro"], 25, "16:9", "720p").transforms == ()  # type: ignore[union-attr]
    assert plan_render(EVOLINK["kling-v3-text-to-video"], 15, "1:1", "1080p").transforms == ()  # type: ignore[union-attr]
    assert plan_render(KIE["sora-2-pro-text-to-video"], 25, "9:16", "720p").transforms == ()  # type: ignore[union-attr]
    assert plan_render(OPENAI["sora-2"], 15, "16:9", "720p") is None  # the spec has no 16 s
    assert plan_render(OPENAI["sora-2"], 10, "16:9", "720p").duration == 12  # type: ignore[union-attr]
    assert plan_render(KLING["kling-v2-master"], 5, "16:9", "720p").transforms == ("scale",)  # type: ignore[union-attr]


async def test_poll_waits_grow_and_hints_win() -> None:
    waits: list[float] = []
    states = iter(
        [
            TaskState("running"),
            TaskState("running", poll_after=0.25),
            TaskState("running"),
            TaskState("succeeded"),
        ]
    )

    async def fetch() -> TaskState:
        return next(states)

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = UpstreamPolicy(poll_initial=1.0, poll_max=1.8, poll_factor=1.5)
    state = await poll_until_done(
        fetch, provider="x", deadline=1e12, policy=policy, on_progress=lambda p: None, sleep=sleep
    )
    assert state.status == "succeeded"
    assert waits == [1.0, 0.25, 1.8]
