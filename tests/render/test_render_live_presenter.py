"""Characters as live presenters in storyboard videos (D16): open eyes that blink, a mouth that
follows the voice, two characters both on screen, and never a still taken mid-blink."""

from __future__ import annotations

from itertools import pairwise

import av
import numpy as np
import pytest
from PIL import Image

from knightvision.render import RenderSpec, plan_scenes, render_storyboard
from knightvision.render.frames import FrameComposer
from knightvision.render.presenter.lipsync import mouth_openness
from knightvision.render.presenter.live import LivePresenter
from knightvision.render.presenter.look import presenter_look
from knightvision.render.roles import Role
from knightvision.render.safe_zones import safe_box
from knightvision.render.scenes import SceneLayers
from knightvision.render.scenes.presenter import presenter_boxes
from knightvision.render.scenes.reference import ReferenceInset, open_eyed
from knightvision.render.speech import synthesize_track
from tests.fixtures.render_probe import decode_frames

HOST = "A cheerful host in a bright yellow sweater on the beach"
CHEF = "a bald man with a grey beard in a navy suit in a kitchen"
AD = (
    "Tired of dull skin? Meet GlowSerum, the vitamin C serum that brightens in a week. "
    "Get yours today."
)
FPS = 30
OPEN = 100  # dark mouth pixels of an open mouth (the closed smile has a few at most)


def _draw(presenter: LivePresenter, index: int, size: tuple[int, int], **kwargs) -> np.ndarray:
    """The presenter alone on a plain backdrop, as RGB."""
    width, height = size
    frame = av.VideoFrame.from_ndarray(
        np.full((height, width, 3), (90, 120, 150), np.uint8), format="rgb24"
    ).reformat(format="yuv420p")
    presenter.draw(frame, index, **kwargs)
    return frame.to_ndarray(format="rgb24").astype(np.int16)


def _eyes(presenter: LivePresenter, index: int, image: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = presenter.face_box(index)
    r = (y1 - y0) / 2
    cy = (y0 + y1) / 2
    return image[round(cy - 0.3 * r) : round(cy + 0.1 * r), round(x0) : round(x1)]


def _mouth_interior(presenter: LivePresenter, index: int, image: np.ndarray) -> int:
    """Pixels of an open mouth's dark inside, around where the mouth is."""
    x0, y0, x1, y1 = presenter.face_box(index)
    r = (y1 - y0) / 2
    cy = (y0 + y1) / 2
    box = image[round(cy + 0.15 * r) : round(cy + 0.8 * r), round(x0) : round(x1)]
    return int((np.abs(box - np.array((70, 22, 30))).max(axis=2) < 30).sum())


@pytest.fixture(scope="module")
def host() -> LivePresenter:
    return LivePresenter(HOST, (0, 0, 720, 1280), 10 * FPS, FPS)


def test_eyes_are_open_by_default_and_shut_only_for_a_blink(host):
    open_frames = [i for i in range(10 * FPS) if host.eyes_open(i)]
    assert host.eyes_open(0) and len(open_frames) > 0.9 * 10 * FPS
    index = open_frames[0]
    default = _draw(host, index, (720, 1280))
    forced_open = _draw(host, index, (720, 1280), blink=False)
    blinking = _draw(host, index, (720, 1280), blink=True)
    assert np.array_equal(_eyes(host, index, default), _eyes(host, index, forced_open))
    # open eyes show their whites and pupils; a closed eye is a line of skin
    assert np.abs(_eyes(host, index, default) - _eyes(host, index, blinking)).mean() > 8
    whites = (_eyes(host, index, default).min(axis=2) > 235).sum()
    assert whites > 50 and (_eyes(host, index, blinking).min(axis=2) > 235).sum() < whites / 10


def test_blinks_happen_every_few_seconds(host):
    first = _eyes(host, 0, _draw(host, 0, (720, 1280)))
    closed = []
    for index in range(8 * FPS):
        eyes = _eyes(host, index, _draw(host, index, (720, 1280)))
        if eyes.shape == first.shape and np.abs(eyes - first).mean() > 8:
            closed.append(index)
    blinks = 1 + sum(1 for a, b in pairwise(closed) if b - a > 1)
    assert closed and blinks >= 2  # several separate blinks in 8 seconds...
    assert len(closed) < 0.1 * 8 * FPS  # ...each only a few frames long


def test_the_mouth_opens_with_the_voice_and_closes_in_silence(voice):
    scenes = plan_scenes(AD, 6, FPS)
    track = synthesize_track(voice, scenes, 6)
    levels = mouth_openness(track.samples, track.sample_rate, FPS, 6 * FPS)
    composer = FrameComposer(
        scenes, 720, 720, presenters=(HOST,), voice_levels=lambda n: levels[:n]
    )
    hook = scenes[0]
    (presenter,) = composer.cast(hook)
    opened, heard = [], []
    for index, frame in enumerate(composer.frames()):
        if index >= hook.end_frame:
            break
        opened.append(_mouth_interior(presenter, index, frame.to_ndarray(format="rgb24")))
        heard.append(levels[index])
    opened_a, heard_a = np.array(opened), np.array(heard)
    assert (opened_a[heard_a == 0] < OPEN).all()  # closed whenever the voice is silent
    assert (opened_a[heard_a > 0.5] > OPEN).all()  # open when the voice is loud
    assert np.corrcoef(opened_a, heard_a)[0, 1] > 0.6


def test_a_silent_track_keeps_the_mouth_closed():
    levels = mouth_openness(np.zeros(48_000, np.float32), 16_000, FPS, 3 * FPS)
    assert not levels.any()


def test_the_rendered_video_speaks_through_the_presenter(tmp_path, voice):
    """End to end: the voiced render opens the presenter's mouth, the unvoiced one never does."""
    counts = {}
    for voiced in (True, False):
        spec = RenderSpec(
            prompt=AD, duration=4, width=720, height=720, voice=voiced, presenters=(HOST,)
        )
        report = render_storyboard(spec, tmp_path / f"{voiced}.mp4", voice=voice)
        hook = report.scenes[0]
        (box,) = presenter_boxes(Role.HOOK, 720, 720, 1)
        presenter = LivePresenter(HOST, box, 4 * FPS, FPS)
        frames = decode_frames(report.path, set(range(hook.end_frame)))
        counts[voiced] = [
            _mouth_interior(presenter, i, frames[i].astype(np.int16)) for i in sorted(frames)
        ]
    assert sum(c > OPEN for c in counts[True]) > 5 and max(counts[False]) < OPEN


def _share(image: np.ndarray, colour: tuple[int, int, int]) -> float:
    return float((np.abs(image - np.array(colour)).max(axis=2) < 30).mean())


def test_two_characters_take_turns_by_scene():
    scenes = plan_scenes(AD, 8, FPS)
    composer = FrameComposer(scenes, 720, 1280, presenters=(HOST, CHEF))
    shown = [tuple(p.look.clothing for p in composer.cast(s)) for s in scenes]
    sweater, suit = presenter_look(HOST).clothing, presenter_look(CHEF).clothing
    assert (sweater,) in shown and (suit,) in shown
    middles = {(s.start_frame + s.end_frame) // 2: s for s in scenes}
    seen = {sweater: 0.0, suit: 0.0}
    for index, frame in enumerate(composer.frames()):
        if index in middles:
            image = frame.to_ndarray(format="rgb24").astype(np.int16)
            for colour in seen:
                seen[colour] = max(seen[colour], _share(image, colour))
    assert min(seen.values()) > 0.03  # both are on screen, each in its own scenes


def test_two_characters_share_the_frame_when_one_scene_shows_them():
    scenes = plan_scenes("Meet Sunny and Chef.", 2, FPS)
    composer = FrameComposer(scenes, 1280, 720, presenters=(HOST, CHEF))
    cast = composer.cast(scenes[0])
    assert len(cast) == 2 and cast[0].box[2] <= cast[1].box[0]  # side by side, not overlapping
    image = next(iter(composer.frames())).to_ndarray(format="rgb24").astype(np.int16)
    left, right = image[:, : cast[1].box[0]], image[:, cast[1].box[0] :]
    sweater, suit = presenter_look(HOST).clothing, presenter_look(CHEF).clothing
    assert _share(left, sweater) > 0.02 and _share(right, suit) > 0.02


@pytest.mark.parametrize("prompt", [HOST, CHEF, "a woman with long blonde hair in a red hoodie"])
def test_a_still_taken_mid_blink_is_never_chosen(tmp_path, prompt):
    presenter = LivePresenter(prompt, (0, 0, 720, 720), FPS, FPS)
    stills = []
    for name, blink in (("blink_a", True), ("open", False), ("blink_b", True)):
        path = tmp_path / f"{name}.png"
        Image.fromarray(_draw(presenter, 0, (720, 720), blink=blink).astype(np.uint8)).save(path)
        stills.append(path)
    assert open_eyed(stills) == (tmp_path / "open.png",)


def test_stills_without_a_face_are_all_kept(tmp_path):
    stills = []
    for k, colour in enumerate([(200, 30, 30), (30, 200, 30)]):
        stills.append(tmp_path / f"product_{k}.png")
        Image.new("RGB", (300, 400), colour).save(stills[-1])
    assert open_eyed(stills) == tuple(stills)


def test_a_reference_still_pushes_in_slowly(tmp_path):
    path = tmp_path / "photo.png"
    ys, xs = np.mgrid[0:400, 0:300]
    Image.fromarray(
        np.dstack([xs * 255 // 300, ys * 255 // 400, (xs * ys) % 256]).astype(np.uint8)
    ).save(path)
    inset = ReferenceInset(path, 720, 1280, 3 * FPS)
    x0, y0, x1, y1 = inset.box

    def drawn(tick: int) -> np.ndarray:
        frame = av.VideoFrame.from_ndarray(np.zeros((1280, 720, 3), np.uint8), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        inset.draw(frame, tick)
        return frame.to_ndarray(format="rgb24")[y0:y1, x0:x1].astype(np.int16)

    first, next_step, last = drawn(0), drawn(2), drawn(3 * FPS - 1)
    assert 0 < np.abs(first - next_step).mean() < np.abs(first - last).mean()


@pytest.mark.parametrize(("width", "height"), [(720, 1280), (1280, 720), (720, 720)])
def test_text_keeps_clear_of_the_presenters_face_and_in_the_safe_zone(width, height):
    scenes = plan_scenes(AD, 8, FPS)
    composer = FrameComposer(scenes, width, height, presenters=(HOST,))
    x0, y0, x1, y1 = safe_box(width, height)
    shown = 0
    for scene in scenes:
        look = composer._look(scene.index)
        if not look.cast:
            continue
        shown += 1
        last = scene.end_frame - 1
        drawn = look.frame(last).to_ndarray(format="rgb24").astype(np.int16)
        look.layers, layers = SceneLayers(), look.layers
        bare = look.frame(last).to_ndarray(format="rgb24").astype(np.int16)
        look.layers = layers
        ink = np.abs(drawn - bare).max(axis=2) > 24  # the text the template drew
        rows, cols = np.nonzero(ink)
        assert len(rows) > 500, scene.role
        assert (x0 - 2, y0 - 2) <= (cols.min(), rows.min()), scene.role
        assert (cols.max(), rows.max()) <= (x1 + 2, y1 + 2), scene.role
        fx0, fy0, fx1, fy1 = (round(v) for v in look.cast[0].face_box(last))
        assert not ink[fy0:fy1, fx0:fx1].any(), scene.role  # the face is never written over
    assert shown >= 2
