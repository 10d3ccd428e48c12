"""When each word of a scene is said, from piper's own phoneme timing.

piper's model predicts how many audio samples each phoneme lasts (its duration predictor, the
``w_ceil`` tensor); :mod:`.speech` loads the voice with that tensor exposed, so every synthesized
sentence comes with the exact sample span of each phoneme (:class:`SaidSentence`). Those spans
are not a guess: the audio is generated from them, and they sum to the sentence's samples.

What piper does not say is which *written* word a phoneme belongs to: it speaks espeak's words,
which are not always ours ("4.8" is three spoken words, "of the" can be one). So each written
word is weighed by its own phoneme count (espeak on the word alone), the words are laid along
the scene's phonemes in that proportion, and a boundary that falls within one phoneme of one of
piper's word spaces snaps to it. Where written and spoken words agree (most of the time) the
times are piper's exactly; where they do not, a word's time is shared out by its phonemes. If
piper cannot align a sentence, its words are spread over it by their phoneme counts.

Checked against the audio (every word sounds from its start, none spans a pause between
sentences: tests/render/test_render_speech.py) and against Whisper's word timestamps on a render
(the lit caption word is the one heard, within 0.3 s: tests/render/test_render_word_captions.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Stress and length marks: written as phonemes, but not sounds of their own.
_MARKS = frozenset("ˈˌː")
#: A written-word boundary this close (in phonemes) to one of piper's word spaces snaps to it.
SNAP_PHONES = 1.0


def is_phone(phoneme: str) -> bool:
    """A phoneme that is a sound (not a space, a pause mark, stress or length)."""
    return phoneme.isalpha() and phoneme not in _MARKS


def phone_count(phonemes: list[list[str]]) -> int:
    """How many sounds espeak gives a text (all its sentences)."""
    return sum(is_phone(p) for sentence in phonemes for p in sentence)


@dataclass(frozen=True)
class SpokenWord:
    """When one written word of a scene is heard, in seconds from the start of the video."""

    scene: int  # the scene's index
    index: int  # the word's place in the scene's text (split at whitespace)
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SaidSentence:
    """One sentence as piper said it: the audio (trimmed) and, per sound, its (start, end) in
    seconds from the audio's first sample, with the index of the first sound of each of piper's
    words."""

    audio: np.ndarray
    phones: tuple[tuple[float, float], ...] = ()
    word_starts: frozenset[int] = frozenset()


def said_sentence(
    audio: np.ndarray, alignment: list[tuple[str, int]] | None, rate: int, begin: int, end: int
) -> SaidSentence:
    """The sentence's audio cut to [begin, end) and its sounds' times in that cut.

    alignment is piper's (phoneme, samples) per phoneme in order, or None when piper could not
    align: then the sentence has no sound times and its words are spread evenly over it.
    """
    cut = audio[begin:end]
    if not alignment:
        return SaidSentence(cut)
    phones: list[tuple[float, float]] = []
    starts: set[int] = set()
    cursor = 0
    new_word = True
    for phoneme, samples in alignment:
        if is_phone(phoneme):
            if new_word:
                starts.add(len(phones))
                new_word = False
            phones.append(((cursor - begin) / rate, (cursor + samples - begin) / rate))
        elif not phoneme.isalpha():  # a space, a pause or the sentence's ends: a word ends
            new_word = True
        cursor += samples
    length = len(cut) / rate
    clipped = tuple((min(max(a, 0.0), length), min(max(b, 0.0), length)) for a, b in phones)
    return SaidSentence(cut, clipped, frozenset(starts))


def word_times(
    weights: list[int], sentences: list[SaidSentence], pause: float, rate: int
) -> list[tuple[float, float]]:
    """(start, end) in seconds of each written word, from the start of the sentences joined with
    `pause` seconds between them; weights are the words' phoneme counts in order."""
    phones: list[tuple[float, float]] = []
    starts: set[int] = set()
    offset = 0.0
    spans: list[tuple[float, float]] = []  # each sentence's span, for sentences without timing
    for sentence in sentences:
        starts |= {len(phones) + i for i in sentence.word_starts}
        phones += [(offset + a, offset + b) for a, b in sentence.phones]
        spans.append((offset, offset + len(sentence.audio) / rate))
        offset += len(sentence.audio) / rate + pause
    if not weights:
        return []
    if not phones or any(not s.phones for s in sentences):
        return _spread(weights, spans[0][0], spans[-1][1]) if spans else []
    starts.add(len(phones))
    units = [max(0, w) for w in weights]
    units = units if sum(units) else [1] * len(units)
    bounds = [0]
    cumulative = 0
    for unit in units[:-1]:
        cumulative += unit
        position = cumulative * len(phones) / sum(units)
        bounds.append(_snap(position, starts, bounds[-1], len(phones)))
    bounds.append(len(phones))
    times = []
    for first, after in itertools.pairwise(bounds):
        if after > first:
            times.append((phones[first][0], phones[after - 1][1]))
        else:  # a written word with no sound of its own ("&" after "rock"): a moment, no more
            at = phones[min(first, len(phones) - 1)][0]
            times.append((at, at))
    return times


def _snap(position: float, starts: set[int], floor: int, limit: int) -> int:
    nearest = min(starts, key=lambda s: abs(s - position))
    chosen = nearest if abs(nearest - position) <= SNAP_PHONES else round(position)
    return min(max(chosen, floor), limit)


def _spread(weights: list[int], start: float, end: float) -> list[tuple[float, float]]:
    """Words laid over [start, end] in proportion to their weights (no sound times known)."""
    total = sum(max(1, w) for w in weights)
    times, cursor = [], start
    for weight in weights:
        length = (end - start) * max(1, weight) / total
        times.append((cursor, cursor + length))
        cursor += length
    return times
