"""The presenter video (character videos on local-storyboard): the person read from the prompt,
moving subtly, at the exact size and duration asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knightvision.media.probe import probe
from knightvision.render import PresenterSpec, presenter_look, render_presenter
from knightvision.render.presenter import Figure, PresenterComposer, blink_frames
from knightvision.render.presenter.vocabulary import COLOURS
from tests.fixtures.render_probe import decode_frames


def _region_mean(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)


def test_render_is_exact_and_shows_the_figure(tmp_path: Path) -> None:
    prompt = "A friendly trainer in a red hoodie at the gym"
    spec = PresenterSpec(prompt=prompt, duration=3, width=720, height=1280)
    report = render_presenter(spec, tmp_path / "presenter.mp4")
    info = probe(report.path)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        720,
        1280,
        "h264",
        "aac",
    )
    assert abs(info.duration - 3) <= 0.05 and info.fps == 30

    look, fig = presenter_look(prompt), Figure(720, 1280)
    closed = sorted(blink_frames(look, 90, 30))
    assert closed, "a 3 s clip blinks at least once"
    open_index = next(i for i in range(90) if i not in closed and abs(i - closed[0]) > 5)
    frames = decode_frames(report.path, {open_index, closed[1]})
    torso = _region_mean(frames[open_index], (330, 1100, 390, 1160)).astype(int)
    assert np.abs(torso - np.array(COLOURS["red"])).max() < 30, torso  # the hoodie is red
    eye_box = (
        int(fig.cx - 0.5 * fig.r),
        int(fig.head_cy - 0.25 * fig.r),
        int(fig.cx + 0.5 * fig.r),
        int(fig.head_cy + 0.1 * fig.r),
    )
    blink_change = np.abs(
        _region_mean(frames[open_index], eye_box) - _region_mean(frames[closed[1]], eye_box)
    ).max()
    assert blink_change > 8, blink_change  # eyes closed in a blink frame


def test_the_figure_breathes_and_backdrops_differ() -> None:
    composer = PresenterComposer(
        PresenterSpec(prompt="A tutor in a classroom", duration=4, width=720, height=720)
    )
    lumas = [
        np.asarray(composer.frame(i).to_ndarray(format="gray"), dtype=np.int16) for i in (0, 60)
    ]
    assert np.abs(lumas[0] - lumas[1]).max() > 40  # the figure moved (breath, sway)
    assert np.abs(lumas[0] - lumas[1]).mean() < 6  # but only a little: the backdrop stays put
    other = PresenterComposer(
        PresenterSpec(prompt="A tutor on the beach", duration=1, width=720, height=720)
    )

    def corner(c: PresenterComposer) -> np.ndarray:
        rgb = np.asarray(c.frame(0).to_ndarray(format="rgb24"))
        return rgb[:120, :120].reshape(-1, 3).mean(axis=0)

    assert np.abs(corner(composer) - corner(other)).max() > 20


@pytest.mark.parametrize("size", [(1280, 720), (720, 720)])
def test_every_aspect_keeps_the_figure_in_frame(size: tuple[int, int]) -> None:
    width, height = size
    composer = PresenterComposer(
        PresenterSpec(prompt="A host", duration=1, width=width, height=height)
    )
    fig = composer.figure
    assert fig.cx - 2.4 * fig.r > 0 and fig.head_cy - 1.5 * fig.r > 0
    assert composer.frame(0).width == width and composer.frame(0).height == height
