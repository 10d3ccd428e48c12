"""End-to-end renders probed with PyAV: container, streams, audio, motion, captions."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from PIL import Image

from knightvision.render import RenderReport, RenderSpec, plan_scenes, render_storyboard
from knightvision.render.frames import SceneLook, scene_palettes
from knightvision.render.palette import contrast_ratio
from knightvision.render.scenes import SceneLayers
from knightvision.render.speech import SPEECH_LEAD
from knightvision.render.storyboard import cut_before_speech
from tests.fixtures.render_probe import decode_audio, decode_frames, decode_luma, probe

AD = (
    "Meet the new Aurora running shoe. Built for city miles and weekend trails. "
    "Grab yours today and run further!"
)
TOLERANCE = 0.1


def assert_valid_mp4(report: RenderReport, spec: RenderSpec) -> dict:
    """H.264/yuv420p + AAC of the requested size, fps and duration (all streams)."""
    info = probe(report.path)
    assert info["video_codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac"
    assert info["audio_rate"] in (44_100, 48_000)
    assert (info["width"], info["height"]) == (spec.width, spec.height)
    assert info["fps"] == pytest.approx(spec.fps)
    assert info["frames"] == spec.duration * spec.fps
    for key in ("container_duration", "video_duration", "audio_duration"):
        assert info[key] == pytest.approx(spec.duration, abs=TOLERANCE), key
    assert report.duration == pytest.approx(spec.duration)
    assert (report.width, report.height) == (spec.width, spec.height)
    return info


@pytest.fixture(scope="module")
def voiced(tmp_path_factory, voice):
    """One voiced portrait render shared by several tests."""
    spec = RenderSpec(prompt=AD, duration=6, width=720, height=1280)
    fractions: list[float] = []
    out = tmp_path_factory.mktemp("voiced") / "ad.mp4"
    report = render_storyboard(spec, out, voice=voice, progress=fractions.append)
    return spec, report, fractions


def test_voiced_render_is_a_valid_mp4(voiced):
    spec, report, _ = voiced
    assert_valid_mp4(report, spec)
    assert report.has_voice
    assert set(report.seconds_spent) == {"plan", "speech", "music", "mix", "frames+encode"}


def test_moov_atom_is_at_the_front(voiced):
    data = voiced[1].path.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_voice_over_is_audible(voiced):
    samples, _ = decode_audio(voiced[1].path)
    assert float(np.sqrt(np.mean(samples**2))) > 0.03


def test_progress_is_reported_from_zero_to_one(voiced):
    fractions = voiced[2]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert len(fractions) > 5


def test_frames_move_within_a_scene_and_change_between_scenes(voiced):
    _, report, _ = voiced
    luma = decode_luma(report.path)
    first = report.scenes[0]
    middle = first.start_frame + first.frame_count // 2
    consecutive = [
        np.abs(luma[i + 1] - luma[i]).mean() for i in range(first.start_frame, first.end_frame - 1)
    ]
    assert min(consecutive) > 0.05  # every frame differs from the previous one
    mids = [luma[s.start_frame + s.frame_count // 2] for s in report.scenes]
    for a, b in pairwise(mids):
        assert np.abs(a - b).mean() > 10  # distinct backgrounds per scene
    assert np.abs(luma[middle] - luma[first.start_frame]).mean() > 0.5


def test_caption_is_legible_against_a_caption_less_frame(voiced):
    spec, report, _ = voiced
    scene = report.scenes[1]
    index = scene.start_frame + scene.frame_count // 2
    decoded = decode_frames(report.path, {index})[index].astype(np.int16)
    palette = scene_palettes(report.scenes)[1]
    bare = SceneLook(scene, palette, spec.width, spec.height)
    (x, y, x1, y1), *_ = bare.layers.text_boxes  # where the scene's caption is
    bare.layers = SceneLayers()  # the same scene without its text
    background = bare.frame(index).to_ndarray(format="rgb24").astype(np.int16)
    box = (slice(y, y1), slice(x, x1))
    outside = (slice(0, y - 20), slice(0, spec.width))
    # Outside the caption the video matches the caption-less frame (codec noise only).
    assert np.abs(decoded[outside] - background[outside]).mean() < 4
    # Inside it, text changed the picture a lot, with both bright fill and dark strokes.
    region = decoded[box]
    assert np.abs(region - background[box]).mean() > 30
    luma = region.mean(axis=2)
    assert (luma > 220).mean() > 0.05
    # The box under the text (most of the block) is dark enough for white text (WCAG AA).
    box_grey = round(float(np.median(luma)))
    assert contrast_ratio((255, 255, 255), (box_grey,) * 3) >= 4.5


def test_same_prompt_same_plan(voiced):
    """The plan's scenes, their cuts moved to the voice (which is the same every time)."""
    spec, report, _ = voiced
    planned = plan_scenes(spec.prompt, spec.duration, spec.fps)
    assert [(s.text, s.role) for s in report.scenes] == [(s.text, s.role) for s in planned]
    assert report.scenes[-1].end_frame == planned[-1].end_frame
    spans = {span.scene: span.start for span in report.speech_spans}
    assert report.scenes == cut_before_speech(planned, spans, SPEECH_LEAD)


SIZES = [
    (720, 1280, 3),
    (1280, 720, 2),
    (720, 720, 2),
    (1080, 1920, 2),
    (1920, 1080, 2),
    (1080, 1080, 2),
]


@pytest.mark.parametrize(("width", "height", "duration"), SIZES)
def test_every_supported_size(tmp_path, width, height, duration):
    spec = RenderSpec(
        prompt="Big summer sale. Everything must go!",
        duration=duration,
        width=width,
        height=height,
        voice=False,
    )
    report = render_storyboard(spec, tmp_path / "out.mp4")
    assert_valid_mp4(report, spec)
    assert not report.has_voice


def test_no_voice_and_no_music_still_has_a_silent_audio_track(tmp_path):
    spec = RenderSpec(prompt=AD, duration=2, width=720, height=720, voice=False, music=False)
    report = render_storyboard(spec, tmp_path / "quiet.mp4")
    assert_valid_mp4(report, spec)
    assert report.style is None
    samples, _ = decode_audio(report.path)
    assert float(np.abs(samples).max()) < 1e-3


@pytest.mark.parametrize("prompt", ["", "   \n ", "🚀🔥✨", "Ünïcödé ñ 日本語 ★ ✓ 🚀"])
def test_odd_prompts_render(tmp_path, voice, prompt):
    spec = RenderSpec(prompt=prompt, duration=1, width=720, height=720)
    report = render_storyboard(spec, tmp_path / "odd.mp4", voice=voice)
    assert_valid_mp4(report, spec)


def test_speech_longer_than_video_keeps_exact_duration(tmp_path, voice):
    prompt = " ".join(f"Sentence number {i} tells you something great." for i in range(40))
    spec = RenderSpec(prompt=prompt, duration=3, width=1280, height=720)
    report = render_storyboard(spec, tmp_path / "long.mp4", voice=voice)
    assert_valid_mp4(report, spec)
    assert report.has_voice
    assert len(report.scenes) == 2  # 1.5 s of body, then the end card


def test_reference_image_is_composited(tmp_path):
    green = (0, 200, 0)
    ref = tmp_path / "character.png"
    Image.new("RGB", (300, 400), green).save(ref)
    spec = RenderSpec(
        prompt="Our hero arrives.",
        duration=1,
        width=720,
        height=1280,
        voice=False,
        reference_images=(ref,),
    )
    report = render_storyboard(spec, tmp_path / "ref.mp4")
    frame = decode_frames(report.path, {15})[15].astype(np.int16)
    close = np.all(np.abs(frame - np.array(green)) < 25, axis=2)
    assert close.sum() > 200 * 200


def test_failed_render_leaves_no_file(tmp_path):
    spec = RenderSpec(
        prompt="x",
        duration=1,
        width=720,
        height=720,
        voice=False,
        reference_images=(tmp_path / "missing.png",),
    )
    out = tmp_path / "broken.mp4"
    with pytest.raises(FileNotFoundError):
        render_storyboard(spec, out)
    assert not out.exists()


def test_other_frame_rates_keep_exact_duration(tmp_path):
    spec = RenderSpec(
        prompt="Twenty-four frames. Cinema feel.",
        duration=2,
        width=1280,
        height=720,
        fps=24,
        voice=False,
    )
    report = render_storyboard(spec, tmp_path / "24fps.mp4")
    assert_valid_mp4(report, spec)
