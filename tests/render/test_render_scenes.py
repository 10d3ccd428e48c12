"""The picture grammar of a short-form ad, checked in rendered frames.

The end card's button is there to the last frame in the brand colour and says the call to
action (read back with our OCR); every scene's text and graphics stay in the platforms' safe
zone; the proof scene counts up to the prompt's own number.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from knightvision.analysis.metrics.text import read_text
from knightvision.render import RenderSpec, render_storyboard
from knightvision.render.frames import FrameComposer
from knightvision.render.palette import BrandPalette
from knightvision.render.roles import Role, proof_figure
from knightvision.render.safe_zones import safe_box
from knightvision.render.scenes import SceneLayers, apply_transition, transition_frames
from knightvision.render.scenes.counter import CountUp, StarRow
from knightvision.render.scenes.kinetic import WORD_STAGGER, KineticText
from knightvision.render.scenes.transitions import PUSH_UP
from knightvision.render.storyboard import plan_scenes
from tests.fixtures.render_probe import decode_frames

AD = (
    "Tired of cold coffee? Meet Brewly, the mug that keeps it hot for 6 hours. "
    "Loved by 12,000 customers. Get 30% off this week only. Shop now at brewly.com"
)
BRAND = "#1E5BFF"


def _words(blocks: list[str]) -> str:
    return " ".join(blocks).casefold()


@pytest.fixture(scope="module")
def end_card(tmp_path_factory):
    spec = RenderSpec(
        prompt="Fresh coffee, delivered to your door. Shop now at brewly.com",
        duration=4,
        width=720,
        height=1280,
        voice=False,
        brand_color=BRAND,
    )
    report = render_storyboard(spec, tmp_path_factory.mktemp("end") / "end.mp4")
    last = spec.duration * spec.fps - 1
    frame = decode_frames(report.path, {last})[last]
    composer = FrameComposer(
        report.scenes, spec.width, spec.height, brand=BrandPalette.from_request("", BRAND)
    )
    look = composer._look(len(report.scenes) - 1)
    return report, frame, look


def test_the_last_frame_shows_the_button_in_the_brand_colour(end_card):
    report, frame, look = end_card
    assert report.scenes[-1].role is Role.END_CARD
    x0, y0, x1, y1 = look.layers.button
    region = frame[y0:y1, x0:x1].astype(np.int16)
    brand = np.array([0x1E, 0x5B, 0xFF])
    in_brand = np.all(np.abs(region - brand) < 24, axis=2)
    assert in_brand.mean() > 0.4  # the pill fills most of its box (the rest: label, shadow)
    above = frame[max(0, y0 - 60) : y0 - 10, x0:x1].astype(np.int16)
    assert np.all(np.abs(above - brand) < 24, axis=2).mean() < 0.05  # a button, not a backdrop


def test_ocr_reads_the_call_to_action_on_the_button_and_the_url_under_it(end_card):
    _, frame, look = end_card
    x0, y0, x1, y1 = look.layers.button
    button_text = _words(read_text([np.ascontiguousarray(frame[y0:y1, x0:x1])])[0])
    assert "shop now" in button_text
    below = np.ascontiguousarray(frame[y1 : y1 + 120, :])
    assert "brewly.com" in _words(read_text([below])[0]).replace(" ", "")


SIZES = [(720, 1280), (720, 720), (1280, 720)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_scenes_text_and_graphics_stay_in_the_safe_zone(width, height):
    scenes = plan_scenes(AD, 12, 30)
    assert [s.role for s in scenes] == [
        Role.HOOK,
        Role.PRODUCT,
        Role.PROOF,
        Role.OFFER,
        Role.END_CARD,
    ]
    composer = FrameComposer(scenes, width, height)
    x0, y0, x1, y1 = safe_box(width, height)
    for scene in scenes:
        look = composer._look(scene.index)
        last = scene.end_frame - 1
        drawn = look.frame(last).to_ndarray(format="rgb24").astype(np.int16)
        look.layers, layers = SceneLayers(), look.layers
        bare = look.frame(last).to_ndarray(format="rgb24").astype(np.int16)
        look.layers = layers
        ink = np.abs(drawn - bare).max(axis=2) > 24  # what the template drew: its ink
        rows, cols = np.nonzero(ink)
        assert len(rows) > 500, scene.role  # every scene shows something
        assert (x0 - 2, y0 - 2) <= (cols.min(), rows.min()), scene.role
        assert (cols.max(), rows.max()) <= (x1 + 2, y1 + 2), scene.role
        for box in layers.text_boxes:  # and the layout's own account agrees
            assert x0 - 2 <= box[0] and box[2] <= x1 + 2, scene.role
            assert y0 - 2 <= box[1] and box[3] <= y1 + 2, scene.role


def test_the_safe_zone_of_a_vertical_video_keeps_clear_of_the_platform_ui():
    _, y0, x1, y1 = safe_box(720, 1280)
    assert y0 >= 0.14 * 1280 - 1 and y1 <= 0.80 * 1280 + 1  # tabs on top, caption/music below
    assert x1 <= 0.88 * 720 + 1  # like/comment/share column on the right


def test_the_proof_scene_counts_up_to_the_prompts_number(tmp_path):
    spec = RenderSpec(
        prompt="Coffee that stays hot. Loved by 12,000 customers. Order today.",
        duration=6,
        width=720,
        height=1280,
        voice=False,
    )
    report = render_storyboard(spec, tmp_path / "proof.mp4")
    proof = next(s for s in report.scenes if s.role is Role.PROOF)
    end = proof.end_frame - 1
    early = proof.start_frame + 3
    frames = decode_frames(report.path, {early, end})
    composer = FrameComposer(report.scenes, spec.width, spec.height)
    counter = next(a for a in composer._look(proof.index).layers.animated if isinstance(a, CountUp))
    x0, y0, x1, y1 = counter.box
    region = (slice(max(0, y0 - 10), y1 + 10), slice(max(0, x0 - 40), x1 + 40))
    final = _words(read_text([np.ascontiguousarray(frames[end][region])])[0])
    assert "12,000" in final.replace(" ", "")
    assert counter.text(3) != "12,000" and int(counter.text(3).replace(",", "")) < 12_000
    counts = [int(counter.text(t).replace(",", "")) for t in range(counter.count_frames + 5)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 12_000


@pytest.mark.parametrize(
    "prompt",
    [
        "New sneakers in three colours. Shop now.",
        "Rated 4.9 by 300 reviewers. Buy now.",
        "Trusted by 5 000+ teams. Start today.",
    ],
)
def test_proof_shows_only_numbers_the_prompt_contains(prompt):
    for scene in plan_scenes(prompt, 8, 30):
        figure = proof_figure(scene.text)
        if figure is not None:
            assert figure.format(figure.value) in prompt


def _solid(rgb: tuple[int, int, int]) -> av.VideoFrame:
    array = np.full((1280, 720, 3), rgb, dtype=np.uint8)
    return av.VideoFrame.from_ndarray(array, format="rgb24").reformat(format="yuv420p")


def test_a_push_slides_the_next_scene_in_under_the_previous_one():
    previous, following = _solid((200, 30, 30)), _solid((30, 30, 200))
    apply_transition(PUSH_UP, following, previous, 0.5)
    picture = following.to_ndarray(format="rgb24").astype(np.int16)
    assert picture[100, 360, 0] > 150 and picture[100, 360, 2] < 80  # the previous one, going up
    assert picture[1200, 360, 2] > 150 and picture[1200, 360, 0] < 80  # the next, coming in
    moved = _solid((30, 30, 200))
    apply_transition(PUSH_UP, moved, _solid((200, 30, 30)), 0.9)
    share = (moved.to_ndarray(format="rgb24")[:, 360, 2] > 150).mean()
    assert share > 0.9  # further along, more of the next scene


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
def test_transitions_last_six_to_ten_frames(fps):
    assert 6 <= transition_frames(fps, 10 * fps) <= 10
    assert transition_frames(fps, 12) <= 4  # never more than a third of a short scene


def test_hook_words_pop_in_one_after_another():
    scenes = plan_scenes(AD, 12, 30)
    look = FrameComposer(scenes, 720, 1280)._look(0)
    kinetic = look.layers.animated[0]
    assert isinstance(kinetic, KineticText) and len(kinetic.words) == 4  # "Tired of cold coffee?"
    bare = SceneLayers()

    def ink(tick: int) -> int:
        drawn = look.frame(tick).to_ndarray(format="rgb24").astype(np.int16)
        look.layers, layers = bare, look.layers
        plain = look.frame(tick).to_ndarray(format="rgb24").astype(np.int16)
        look.layers = layers
        return int((np.abs(drawn - plain).max(axis=2) > 24).sum())

    first, second, settled = ink(1), ink(1 + 2 * WORD_STAGGER), ink(kinetic.settle)
    assert 0 < first < second < settled
    assert ink(scenes[0].frame_count - 1) > settled  # then the text pushes in


def _end_card_frame(prompt: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The end card's last frame as drawn (RGB) and the frame's safe box, 720x1280."""
    scenes = plan_scenes(prompt, 6, 30)
    composer = FrameComposer(scenes, 720, 1280, brand=BrandPalette.from_request("", BRAND))
    look = composer._look(len(scenes) - 1)
    return look.frame(scenes[-1].end_frame - 1).to_ndarray(format="rgb24"), safe_box(720, 1280)


@pytest.mark.parametrize(
    ("prompt", "shown"),
    [
        (
            "Meet Brewly, the mug that stays hot. Shop now at brewly.com and get free shipping",
            ("brewly", "get free shipping", "shop now", "brewly.com"),
        ),
        (  # no name: the call to action's whole sentence up top
            "Coffee that stays hot. Shop now and get your first box free.",
            ("shop now and get your first box free", "shop now"),
        ),
    ],
)
def test_the_end_card_keeps_the_offer_said_with_the_call_to_action(prompt, shown):
    frame, _ = _end_card_frame(prompt)
    read = _words(read_text([frame])[0])
    for words in shown:
        assert words in read, read


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("A person walking through a futuristic city", "futuristic city"),  # the hook
        ("Coffee that stays hot all day. Order now at heatmug.com", "heatmug"),  # the brand
    ],
)
def test_an_end_card_without_a_product_name_still_fills_its_upper_half(prompt, title):
    frame, (x0, y0, x1, y1) = _end_card_frame(prompt)
    upper = np.ascontiguousarray(frame[y0 : y0 + (y1 - y0) * 45 // 100, x0:x1])
    assert title in _words(read_text([upper])[0])


def test_a_rating_fills_four_stars_and_part_of_the_fifth_without_spaced_digits():
    figure = proof_figure("Rated 4.8 stars by our customers")
    assert figure is not None and figure.stars
    frame = _solid((0, 0, 0))
    counter = CountUp(figure, 200, (255, 255, 255), (0, 0, 0), (360, 300), count_frames=10)
    stars = StarRow(counter, 100, (360, 600))
    counter.draw(frame, 20)
    stars.draw(frame, 20)
    picture = frame.to_ndarray(format="rgb24").astype(np.int16)
    gold = (picture[:, :, 0] > 200) & (picture[:, :, 1] > 140) & (picture[:, :, 2] < 90)
    filled = [int(gold[y : y + 100, x : x + 100].sum()) for x, y in stars.positions]
    assert all(f == pytest.approx(filled[0], rel=0.03) for f in filled[:4])
    assert 0.7 < filled[4] / filled[0] < 0.88  # 0.8 of a star, visibly not a full one
    # "4.8" set tight: no column gap between the glyphs wider than a tenth of the size.
    inked = (picture[200:400].max(axis=2) > 128).any(axis=0)
    columns = np.flatnonzero(inked)
    assert counter.text(20) == "4.8"
    assert np.diff(columns).max() < 0.1 * 200
