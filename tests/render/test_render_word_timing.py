"""Written words laid over piper's phonemes (word_timing): exact where written and spoken words
agree, shared out by phonemes where they do not, spread evenly without phoneme times."""

from __future__ import annotations

import numpy as np
import pytest

from knightvision.render.word_timing import SaidSentence, said_sentence, word_times

RATE = 1000  # samples a second: one sample is a millisecond


def sentence(words: list[int], phone_ms: int = 50) -> SaidSentence:
    """A sentence of spoken words of these many sounds each, every sound phone_ms long, with a
    20 ms space between words."""
    alignment: list[tuple[str, int]] = [("^", 10)]
    for n, count in enumerate(words):
        if n:
            alignment.append((" ", 20))
        alignment += [("a", phone_ms)] * count
    alignment.append(("$", 10))
    total = sum(samples for _, samples in alignment)
    return said_sentence(np.ones(total, np.float32), alignment, RATE, 0, total)


def test_words_that_match_pipers_take_its_times_exactly() -> None:
    said = sentence([3, 2, 4])
    times = word_times([3, 2, 4], [said], 0.0, RATE)
    assert times == pytest.approx([(0.01, 0.16), (0.18, 0.28), (0.30, 0.50)])


def test_a_number_read_as_several_words_spans_them_all() -> None:
    # "at 4.8 stars": piper says "at four point eight stars" (2, 4, 4, 3, 5 sounds).
    said = sentence([2, 4, 4, 3, 5])
    at, number, stars = word_times([2, 11, 5], [said], 0.0, RATE)
    assert at == pytest.approx((0.01, 0.11))
    assert number == pytest.approx((0.13, 0.13 + 0.2 + 0.02 + 0.2 + 0.02 + 0.15))
    assert stars[0] == pytest.approx(number[1] + 0.02)


def test_words_said_as_one_share_it_by_their_sounds() -> None:
    # "of the" said as one spoken word of four sounds.
    of, the = word_times([2, 2], [sentence([4])], 0.0, RATE)
    assert of == pytest.approx((0.01, 0.11)) and the == pytest.approx((0.11, 0.21))


def test_the_pause_between_sentences_is_in_no_word() -> None:
    first, second = sentence([2]), sentence([3])
    times = word_times([2, 3], [first, second], 0.3, RATE)
    gap_start = len(first.audio) / RATE
    assert times[0][1] <= gap_start and times[1][0] >= gap_start + 0.3


def test_without_phoneme_times_words_are_spread_by_their_sounds() -> None:
    bare = SaidSentence(np.ones(1000, np.float32))
    assert word_times([1, 3], [bare], 0.0, RATE) == pytest.approx([(0.0, 0.25), (0.25, 1.0)])
