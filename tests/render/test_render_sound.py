"""How a storyboard render sounds, measured the way our ad analysis measures an ad: decode the
MP4's audio (analysis.metrics.audio), integrated loudness, silence ratio and true peak (4×
oversampled with scipy, on the decoded AAC). Plus the pace the voice spoke at (piper's timing,
which the renderer controls) and the music under and between the sentences."""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from knightvision.analysis.metrics.audio import SILENCE_DBFS, audio_levels, decode_audio
from knightvision.render import RenderReport, RenderSpec, render_storyboard
from tests.fixtures.render_prompts import LONG_PROMPT, README_PROMPT


def true_peak_dbtp(samples: np.ndarray) -> float:
    up = resample_poly(samples.astype(np.float64), 4, 1, axis=0)
    return 20 * math.log10(float(np.abs(up).max()))


def level_dbfs(samples: np.ndarray) -> float:
    return 20 * math.log10(max(float(np.sqrt(np.mean(np.square(samples)))), 1e-10))


class Measured:
    """One render and its audio as our analysis reads it."""

    def __init__(self, report: RenderReport) -> None:
        self.report = report
        samples, self.rate = decode_audio(report.path)
        self.mono = samples.mean(axis=1)
        self.levels = audio_levels(samples, self.rate)
        self.true_peak = true_peak_dbtp(samples)

    def between(self, start: float, end: float) -> np.ndarray:
        return self.mono[round(start * self.rate) : round(end * self.rate)]


def render(tmp_path_factory, piper, name: str, **spec: object) -> Measured:
    out = tmp_path_factory.mktemp(name) / f"{name}.mp4"
    full = {"width": 720, "height": 720, **spec}
    return Measured(render_storyboard(RenderSpec(**full), Path(out), voice=piper))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def short(tmp_path_factory, voice) -> Measured:
    """The README's example: seven words in ten seconds, portrait."""
    return render(tmp_path_factory, voice, "short", prompt=README_PROMPT, duration=10, height=1280)


@pytest.fixture(scope="module")
def long(tmp_path_factory, voice) -> Measured:
    return render(tmp_path_factory, voice, "long", prompt=LONG_PROMPT, duration=30)


@pytest.fixture(scope="module")
def styled(tmp_path_factory, voice) -> Measured:
    return render(
        tmp_path_factory, voice, "styled", prompt=README_PROMPT, duration=8, style="playful"
    )


RENDERS = ["short", "long", "styled"]


@pytest.mark.parametrize("name", RENDERS)
def test_loudness_is_the_platforms_minus_14_lufs(request, name: str) -> None:
    measured: Measured = request.getfixturevalue(name)
    assert measured.levels["loudness_lufs"] == pytest.approx(-14.0, abs=1.0)


@pytest.mark.parametrize("name", RENDERS)
def test_true_peak_stays_under_minus_1_dbtp(request, name: str) -> None:
    measured: Measured = request.getfixturevalue(name)
    assert measured.true_peak <= -1.0
    assert measured.levels["clipping_ratio"] == 0.0


@pytest.mark.parametrize("name", RENDERS)
def test_there_is_no_dead_air(request, name: str) -> None:
    measured: Measured = request.getfixturevalue(name)
    assert measured.levels["silence_ratio"] <= 0.2


@pytest.mark.parametrize("name", RENDERS)
def test_voice_speaks_at_an_ad_pace(request, name: str) -> None:
    """130-170 words a minute where the text allows: here it does (seven words in ten seconds,
    sixty in thirty)."""
    measured: Measured = request.getfixturevalue(name)
    assert measured.report.has_voice
    assert 130 <= measured.report.words_per_minute <= 170


def test_a_short_prompt_ends_and_the_music_carries_the_rest(short: Measured) -> None:
    """Seven words are said at a natural pace, not stretched over the ten seconds; the end card
    says its call to action in its own scene, and the music carries the time between."""
    spans = short.report.speech_spans
    end_card = len(short.report.scenes) - 1
    assert [span.scene for span in spans] == [0, end_card]
    assert spans[0].end < 4.0
    # After the sentence (and the bed's release) until the end card speaks: music, not silence.
    assert level_dbfs(short.between(spans[0].end + 0.5, spans[1].start - 0.1)) > SILENCE_DBFS + 20


def test_music_plays_between_the_sentences(long: Measured) -> None:
    spans = long.report.speech_spans
    assert len(spans) == len(long.report.scenes) >= 5
    for before, after in pairwise(spans):
        assert after.start > before.end
        gap = long.between(before.end + 0.05, after.start - 0.05)
        assert level_dbfs(gap) > SILENCE_DBFS + 15


def test_music_sits_under_the_voice(long: Measured) -> None:
    """The bed is ducked, not gone: it fills the first sentence's pauses too, and the voice
    stands well above it (speech is louder than the music between sentences)."""
    spans = long.report.speech_spans
    speech = level_dbfs(long.between(spans[1].start, spans[1].end))
    music = level_dbfs(long.between(spans[1].end + 0.1, spans[2].start - 0.05))
    assert speech > music + 3


def test_the_requested_style_is_played(styled: Measured, short: Measured) -> None:
    assert styled.report.style == "playful"
    assert short.report.style == "dramatic"  # from "futuristic"


def test_no_voice_renders_the_music_alone_at_the_same_loudness(tmp_path_factory, voice) -> None:
    measured = render(
        tmp_path_factory, voice, "music", prompt=README_PROMPT, duration=4, voice=False
    )
    assert not measured.report.has_voice and measured.report.speech_spans == ()
    assert measured.levels["loudness_lufs"] == pytest.approx(-14.0, abs=1.0)
    assert measured.levels["silence_ratio"] <= 0.2
    assert measured.true_peak <= -1.0
