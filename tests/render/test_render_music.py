"""The music bed: moods chosen from the prompt or the request, musical (chords that change,
beats), reproducible, exactly as long as the video and faded at both ends."""

from __future__ import annotations

import numpy as np
import pytest

from knightvision.media.music_styles import MUSIC_STYLES
from knightvision.render.music import FADE_IN, MOODS, choose_style, music_bed

RATE = 22_050


@pytest.mark.parametrize(
    ("prompt", "style"),
    [
        ("A person walking through a futuristic city", "dramatic"),
        ("Big summer sale, everything must go today!", "upbeat"),
        ("Relax with a warm cup of tea every morning.", "calm"),
        ("The cutest toys for kids and their pets.", "playful"),
    ],
)
def test_the_prompt_words_choose_the_mood(prompt: str, style: str) -> None:
    assert choose_style(prompt) == style


def test_a_requested_style_wins_over_the_prompt() -> None:
    assert choose_style("A person walking through a futuristic city", "playful") == "playful"
    with pytest.raises(ValueError, match="upbeat, calm, dramatic, playful"):
        choose_style("anything", "jazz")


def test_a_prompt_without_mood_words_still_gets_one_mood_every_time() -> None:
    prompts = [f"Product number {n} by Acme" for n in range(12)]
    chosen = [choose_style(prompt) for prompt in prompts]
    assert chosen == [choose_style(prompt) for prompt in prompts]
    assert set(chosen) <= set(MUSIC_STYLES)
    assert len(set(chosen)) > 1  # not every prompt falls to the same mood


def test_every_style_has_a_mood() -> None:
    assert tuple(MOODS) == MUSIC_STYLES


@pytest.mark.parametrize("style", MUSIC_STYLES)
def test_bed_is_exact_length_reproducible_and_faded(style: str) -> None:
    bed = music_bed("Fresh coffee", style, 7.5, RATE)
    assert bed.dtype == np.float32 and len(bed) == round(7.5 * RATE)
    assert np.array_equal(bed, music_bed("Fresh coffee", style, 7.5, RATE))
    assert bed[0] == 0.0 and abs(bed[-1]) < 1e-6
    fade = round(FADE_IN * RATE)
    assert rms(bed[: fade // 4]) < 0.5 * rms(bed[fade : 2 * fade])
    assert rms(bed[RATE : 2 * RATE]) > 0.01  # sounding, not near silence


@pytest.mark.parametrize("style", MUSIC_STYLES)
def test_bed_changes_chords_from_bar_to_bar(style: str) -> None:
    """Not a drone: the spectrum of the first bar's pad is not the second bar's."""
    mood = MOODS[style]
    bar = 4 * 60.0 / mood.bpm
    bed = music_bed("Fresh coffee", style, 3 * bar, RATE).astype(np.float64)
    first, second = (
        spectrum(bed[round((i + 0.3) * bar * RATE) : round((i + 0.9) * bar * RATE)]) for i in (0, 1)
    )
    n = min(len(first), len(second))
    assert float(np.dot(first[:n], second[:n])) < 0.9


@pytest.mark.parametrize("style", MUSIC_STYLES)
def test_bed_has_percussion(style: str) -> None:
    """Hats and snares are short bursts above 4 kHz, where the pad and bass have next to nothing:
    the loudest 20 ms there stands out against the bed (measured about 0.3-0.9 of the bed's RMS;
    without percussion under 0.01)."""
    bar = 4 * 60.0 / MOODS[style].bpm
    bed = music_bed("Fresh coffee", style, 4 * bar, RATE).astype(np.float64)
    middle = bed[round(bar * RATE) : round(3 * bar * RATE)]
    spectrum = np.fft.rfft(middle)
    spectrum[np.fft.rfftfreq(len(middle), 1 / RATE) < 4000] = 0
    high = np.fft.irfft(spectrum, len(middle))
    block = round(0.02 * RATE)
    levels = np.sqrt(np.mean(high[: len(high) // block * block].reshape(-1, block) ** 2, axis=1))
    assert float(levels.max()) > 0.1 * rms(middle)


def test_different_prompts_play_in_different_keys() -> None:
    beds = {music_bed(f"Acme product {n}", "calm", 2.0, RATE).tobytes() for n in range(4)}
    assert len(beds) > 1


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def spectrum(samples: np.ndarray) -> np.ndarray:
    """Unit-length magnitude spectrum below 1 kHz (where the chords are)."""
    magnitude = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    low = magnitude[: int(1000 * len(samples) / RATE)]
    return low / np.linalg.norm(low)
