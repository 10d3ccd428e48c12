"""What a local render may be asked for: one set of limits for the storyboard and the presenter."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.render import SUPPORTED_SIZES, PresenterSpec, RenderSpec


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": 0}, "duration"),
        ({"duration": 61}, "duration"),
        ({"duration": 2.5}, "duration"),
        ({"width": 640, "height": 480}, "unsupported size"),
        ({"prompt": "x" * 2001}, "prompt longer"),
        ({"fps": 0}, "fps"),
        ({"style": "jazz"}, "style must be one of upbeat, calm, dramatic, playful"),
    ],
)
def test_render_spec_rejects_bad_input(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"prompt": "hi", "duration": 2, "width": 720, "height": 1280}
    with pytest.raises(ValueError, match=match):
        RenderSpec(**{**base, **kwargs})  # type: ignore[arg-type]


def test_render_spec_normalises_reference_paths() -> None:
    spec = RenderSpec(
        prompt="hi",
        duration=2,
        width=720,
        height=720,
        reference_images=("a.png",),  # type: ignore[arg-type]
    )
    assert spec.reference_images == (Path("a.png"),)


def test_invalid_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="duration"):
        PresenterSpec(prompt="x", duration=0, width=720, height=720)
    with pytest.raises(ValueError, match="unsupported size"):
        PresenterSpec(prompt="x", duration=2, width=640, height=480)


@pytest.mark.parametrize(
    "clip",
    [
        {"duration": 0},
        {"duration": 61},
        {"duration": True},
        {"width": 1080, "height": 720},
        {"fps": 0},
        {"fps": 61},
    ],
)
def test_both_renderers_refuse_the_same_clips(clip: dict[str, object]) -> None:
    base: dict[str, object] = {"prompt": "hi", "duration": 2, "width": 720, "height": 720}
    with pytest.raises(ValueError, match=r"must be|unsupported size") as storyboard:
        RenderSpec(**{**base, **clip})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"must be|unsupported size") as presenter:
        PresenterSpec(**{**base, **clip})  # type: ignore[arg-type]
    assert str(storyboard.value) == str(presenter.value)


@pytest.mark.parametrize(("width", "height"), sorted(SUPPORTED_SIZES))
def test_both_renderers_accept_every_supported_size(width: int, height: int) -> None:
    assert RenderSpec(prompt="hi", duration=60, width=width, height=height, fps=60).width == width
    assert (
        PresenterSpec(prompt="hi", duration=1, width=width, height=height, fps=1).height == height
    )
