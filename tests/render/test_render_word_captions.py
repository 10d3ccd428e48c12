"""Captions follow the voice word by word: the word lit up in a caption at time t is the word
Whisper (our own transcription, with its word timestamps) hears at t, within 0.3 s; the hook's
words pop in as they are heard; and each scene's narration starts after its cut."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from knightvision.render import RenderSpec, render_storyboard
from knightvision.render.frames import FrameComposer
from knightvision.render.palette import BrandPalette
from knightvision.render.roles import Role
from knightvision.render.scenes.kinetic import KineticText
from knightvision.render.speech import SPEECH_LEAD
from tests.fixtures.render_probe import decode_frames

PROMPT = (
    "Tired of cold coffee? Meet the HeatMug. Rated 4.8 stars by 12,000 customers. "
    "Get 20% off today and get free shipping. Shop now at heatmug.com"
)
BRAND = "#E0218A"  # a magenta no background of this prompt has
BRAND_RGB = np.array([0xE0, 0x21, 0x8A])
CAPTIONED = {Role.PROBLEM, Role.PRODUCT, Role.PROOF, Role.OFFER}
TOLERANCE = 0.3  # s between the lit word and when Whisper hears it
FPS = 30


def _norm(word: str) -> str:
    return re.sub(r"[^a-z0-9%]", "", word.lower())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, voice):
    from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber

    spec = RenderSpec(prompt=PROMPT, duration=12, width=720, height=720, brand_color=BRAND)
    report = render_storyboard(spec, tmp_path_factory.mktemp("words") / "words.mp4", voice=voice)
    heard = LocalWhisperTranscriber().transcribe(Path(report.path)).to_dict()["words"]
    composer = FrameComposer(
        report.scenes, spec.width, spec.height, brand=BrandPalette.from_request("", BRAND)
    )
    return report, heard, composer


def _same_word(shown: str, heard: str) -> bool:
    """Whisper writes some words in pieces ("heat mug", "4 .8", "20 %"): a piece of the word
    counts, if it is a number or a sign or has two letters at least."""
    shown, heard = _norm(shown), _norm(heard)
    piece = len(heard) >= 2 or (heard != "" and not heard.isalpha())
    return shown == heard or (piece and heard in shown)


def _lit_word(frame: np.ndarray, boxes) -> int | None:
    """The caption word whose box is mostly the brand colour in the decoded frame, if any."""
    scores = []
    for box in boxes:
        if box is None:
            scores.append(0.0)
            continue
        x0, y0, x1, y1 = box
        patch = frame[y0:y1, x0:x1].astype(np.int16)
        scores.append(float((np.abs(patch - BRAND_RGB).max(axis=2) < 60).mean()))
    best = int(np.argmax(scores))
    return best if scores[best] > 0.3 else None


def test_the_lit_caption_word_is_the_word_being_said(rendered) -> None:
    report, heard, composer = rendered
    samples: list[tuple[float, int, int]] = []  # (time, scene, frame)
    for word in heard:
        t = (word["start"] + word["end"]) / 2
        scene = next(s for s in report.scenes if s.start <= t < s.end)
        frame = round(t * FPS)
        if scene.role in CAPTIONED and scene.start_frame + 10 <= frame < scene.end_frame - 2:
            samples.append((t, scene.index, frame))
    frames = decode_frames(report.path, {frame for _, _, frame in samples})
    matched, exact, misses = 0, 0, []
    for t, index, frame in samples:
        scene = report.scenes[index]
        lit = _lit_word(frames[frame], composer._look(index).layers.word_boxes)
        text = scene.text.split()[lit] if lit is not None else ""
        near = [w["word"] for w in heard if w["start"] - TOLERANCE <= t <= w["end"] + TOLERANCE]
        said = [w["word"] for w in heard if w["start"] <= t <= w["end"]]  # Whisper's word at t
        matched += any(_same_word(text, w) for w in near)
        exact += any(_same_word(text, w) for w in said)
        if not any(_same_word(text, w) for w in near):
            misses.append((round(t, 2), text, near))
    assert len(samples) >= 12, samples
    # Whisper may mishear a word now and then: nearly all must match within the tolerance, and
    # most exactly (a caption running one word late or early fails here).
    assert matched >= 0.85 * len(samples), misses
    assert exact >= 0.7 * len(samples), (exact, len(samples))


def test_no_word_is_lit_between_the_sentences(rendered) -> None:
    report, _, composer = rendered
    proof = next(s for s in report.scenes if s.role is Role.PROOF)
    frame = proof.start_frame + 2  # after the cut, before its speech starts
    lit = _lit_word(
        decode_frames(report.path, {frame})[frame], composer._look(proof.index).layers.word_boxes
    )
    assert lit is None


def test_the_hooks_words_pop_in_as_they_are_heard(rendered, voice) -> None:
    report, heard, _ = rendered
    hook = report.scenes[0]
    said = [w for w in report.spoken_words if w.scene == hook.index]
    composer = FrameComposer(report.scenes, 720, 720, spoken_words=report.spoken_words)
    kinetic = next(a for a in composer._look(0).layers.animated if isinstance(a, KineticText))
    assert len(kinetic.words) == len(said) == 4
    for sprite, word in zip(kinetic.words, heard[:4], strict=True):
        assert abs(sprite.start_tick / FPS - word["start"]) <= TOLERANCE, (sprite.start_tick, word)


def test_each_scenes_speech_starts_after_its_cut(rendered) -> None:
    report, _, _ = rendered
    for span in report.speech_spans:
        scene = report.scenes[span.scene]
        assert span.start - scene.start >= SPEECH_LEAD - 1e-6
        assert span.end <= scene.end  # and is over by the next cut
