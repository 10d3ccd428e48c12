"""A music bed synthesized with numpy: royalty-free by construction, offline, cheap.

Each mood is a four-chord progression played as a soft pad, a bass line, an optional arpeggio
and light percussion. One loop of the progression is synthesized and repeated over the video, so
a 60 s bed costs no more than one loop (a few hundred ms of samples). The mood comes from the
request's ``style`` or, without one, deterministically from the prompt's words; the key from a
hash of the prompt, so different prompts do not all sound alike but the same prompt always does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from knightvision.media.music_styles import MUSIC_STYLES

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
FADE_IN = 0.3  # s: short, so the first words never start over silence
FADE_OUT = 1.2  # s: the bed closes the video
#: The bed is band-limited below what AAC keeps at our bitrate: when the encoder drops the
#: percussion's top octave, the waveform's peaks move and overshoot the true-peak ceiling
#: (measured: by up to 1 dB without this, 0.1-0.2 dB with it).
BANDWIDTH_HZ = 12_000


@dataclass(frozen=True)
class Mood:
    """How one style plays: tempo, harmony and which instruments, each as a per-beat pattern."""

    bpm: float
    scale: tuple[int, ...]
    progression: tuple[int, ...]  # scale degrees (0-based), one chord per bar
    sevenths: bool  # add the chord's seventh (softer, jazzier)
    pad: float  # levels of the instruments (linear, before the mix sets the bed's loudness)
    bass: float
    arp: float
    kick_beats: tuple[float, ...]  # positions within a 4-beat bar
    snare_beats: tuple[float, ...]
    hat_beats: tuple[float, ...]
    bass_beats: tuple[float, ...]


MOODS: dict[str, Mood] = {
    "upbeat": Mood(
        bpm=118,
        scale=MAJOR,
        progression=(0, 4, 5, 3),
        sevenths=False,
        pad=0.16,
        bass=0.30,
        arp=0.10,
        kick_beats=(0, 1, 2, 3),
        snare_beats=(1, 3),
        hat_beats=(0.5, 1.5, 2.5, 3.5),
        bass_beats=(0, 0.5, 1.5, 2, 2.5, 3.5),
    ),
    "calm": Mood(
        bpm=76,
        scale=MAJOR,
        progression=(0, 5, 3, 4),
        sevenths=True,
        pad=0.22,
        bass=0.22,
        arp=0.07,
        kick_beats=(0,),
        snare_beats=(),
        hat_beats=(1, 3),
        bass_beats=(0, 2),
    ),
    "dramatic": Mood(
        bpm=88,
        scale=MINOR,
        progression=(0, 5, 2, 6),
        sevenths=False,
        pad=0.24,
        bass=0.32,
        arp=0.0,
        kick_beats=(0, 2.5),
        snare_beats=(2,),
        hat_beats=(0, 1, 2, 3),
        bass_beats=(0, 1, 2, 3),
    ),
    "playful": Mood(
        bpm=108,
        scale=MAJOR,
        progression=(0, 3, 4, 3),
        sevenths=False,
        pad=0.10,
        bass=0.26,
        arp=0.14,
        kick_beats=(0, 2),
        snare_beats=(1, 3),
        hat_beats=(0.5, 1.5, 2.5, 3.5),
        bass_beats=(0, 1, 2, 3),
    ),
}
assert tuple(MOODS) == MUSIC_STYLES  # one list of styles, for the parser and the renderer

#: Words that lean a prompt to a mood; a prompt takes the mood with the most hits.
MOOD_WORDS: dict[str, frozenset[str]] = {
    name: frozenset(words.split())
    for name, words in {
        "upbeat": "sale deal new now today fast run running sport sports fitness energy launch "
        "summer win drive boost fresh go shop save",
        "calm": "calm relax relaxing sleep spa coffee tea morning gentle peace peaceful soft yoga "
        "care skin nature home comfort slow quiet breathe wellness",
        "dramatic": "futuristic future epic dark hero legend storm night bold cinematic adventure "
        "mystery power ultimate rise battle space secret intense",
        "playful": "fun kids kid play toy toys candy cute pet pets dog cat game games smile happy "
        "snack silly party colorful colourful treat",
    }.items()
}


def choose_style(prompt: str, style: str | None = None) -> str:
    """The requested style, else the mood the prompt's words lean to, else one picked by hash."""
    if style is not None:
        if style not in MOODS:
            raise ValueError(f"unknown music style {style!r}; one of {', '.join(MUSIC_STYLES)}")
        return style
    words = re.findall(r"[a-z]+", prompt.lower())
    hits = {name: sum(word in vocab for word in words) for name, vocab in MOOD_WORDS.items()}
    best = max(hits.values())
    if best > 0:
        return next(name for name in MUSIC_STYLES if hits[name] == best)
    return MUSIC_STYLES[_digest(prompt) % len(MUSIC_STYLES)]


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def _hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _chord(mood: Mood, root: int, degree: int) -> list[int]:
    """MIDI notes of the chord on a scale degree (a triad, or a seventh chord)."""
    steps = (0, 2, 4, 6) if mood.sevenths else (0, 2, 4)
    notes = []
    for step in steps:
        index = degree + step
        notes.append(root + mood.scale[index % 7] + 12 * (index // 7))
    return notes


class _Loop:
    """One loop's buffer, with a tail so hits near the end can ring into the next repeat."""

    def __init__(self, seconds: float, rate: int) -> None:
        self.rate = rate
        self.length = round(seconds * rate)
        self.buffer = np.zeros(self.length + rate, dtype=np.float32)

    def add(self, at: float, sound: np.ndarray) -> None:
        begin = round(at * self.rate)
        self.buffer[begin : begin + len(sound)] += sound[: len(self.buffer) - begin]

    def folded(self) -> np.ndarray:
        """The loop with its tail wrapped onto its start, so repeats join seamlessly."""
        loop = self.buffer[: self.length].copy()
        tail = self.buffer[self.length :]
        loop[: len(tail)] += tail[: self.length]
        return loop


def _tone(
    freq: float, seconds: float, rate: int, harmonics: int, decay: float | None
) -> np.ndarray:
    """A note: a few harmonics falling off as 1/n^1.5, with a pluck decay or a held envelope."""
    t = np.arange(round(seconds * rate), dtype=np.float32) / np.float32(rate)
    wave = sum(
        np.sin(np.float32(2 * np.pi * freq * n) * t) / np.float32(n**1.5)
        for n in range(1, harmonics + 1)
        if freq * n < rate / 2.2
    )
    if decay is not None:
        envelope = np.exp(-t / decay)
    else:  # a pad: slow attack, held, released at the end of the bar
        envelope = np.minimum(1.0, np.minimum(t / 0.25, (seconds - t) / 0.15))
    attack = np.minimum(1.0, t / 0.004)  # no click at the start of a note
    return np.asarray(wave * envelope * attack, dtype=np.float32)


def _kick(rate: int) -> np.ndarray:
    t = np.arange(round(0.3 * rate)) / rate
    freq = 60 + 80 * np.exp(-t / 0.03)  # the pitch drops: a thump, not a beep
    phase = 2 * np.pi * np.cumsum(freq) / rate
    return np.asarray(np.sin(phase) * np.exp(-t / 0.11), dtype=np.float64)


def _noise_hit(rate: int, seconds: float, decay: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    noise = np.diff(rng.standard_normal(len(t) + 1))  # first difference: a brighter hiss
    return np.asarray(noise * np.exp(-t / decay) * 0.5, dtype=np.float64)


def render_loop(style: str, rate: int, key: int = 0) -> np.ndarray:
    """One loop (four bars, one chord each) of the style's bed, float32, unnormalised."""
    mood = MOODS[style]
    beat = 60.0 / mood.bpm
    bar = 4 * beat
    loop = _Loop(bar * len(mood.progression), rate)
    rng = np.random.default_rng(key)  # percussion noise: seeded, so renders are reproducible
    root = (57 if mood.scale is MINOR else 53) + key % 7  # around A3 / F3
    kick, hat = _kick(rate), _noise_hit(rate, 0.08, 0.018, rng)
    snare = _noise_hit(rate, 0.2, 0.05, rng) + 0.3 * _tone(190, 0.2, rate, 1, 0.04)
    for index, degree in enumerate(mood.progression):
        start = index * bar
        notes = _chord(mood, root, degree)
        for note in notes:  # the pad: two slightly detuned voices per note, for width
            for detune in (-0.08, 0.08):
                loop.add(
                    start, mood.pad / len(notes) * _tone(_hz(note + detune), bar, rate, 3, None)
                )
        bass_note = _hz(notes[0] - 12)  # 87-123 Hz: what a phone speaker can still play
        for position in mood.bass_beats:
            loop.add(start + position * beat, mood.bass * _tone(bass_note, beat, rate, 2, 0.22))
        if mood.arp:
            for step in range(8):  # eighth notes over the chord, an octave up
                note = notes[step % len(notes)] + 12
                loop.add(start + step * beat / 2, mood.arp * _tone(_hz(note), beat, rate, 2, 0.12))
        for position in mood.kick_beats:
            loop.add(start + position * beat, 0.45 * kick)
        for position in mood.snare_beats:
            loop.add(start + position * beat, 0.22 * snare)
        for position in mood.hat_beats:
            loop.add(start + position * beat, 0.10 * hat)
    return loop.folded()


def _band_limited(loop: np.ndarray, rate: int) -> np.ndarray:
    """loop low-passed as the repeating signal it is: filtered twice over, the second copy kept,
    so the filter has settled where one repeat joins the next."""
    if rate <= 2 * BANDWIDTH_HZ:  # nothing to cut at this rate
        return loop
    sections = butter(6, BANDWIDTH_HZ, fs=rate, output="sos")
    return np.asarray(sosfilt(sections, np.tile(loop, 2))[len(loop) :], dtype=np.float32)


def music_bed(prompt: str, style: str, duration: float, rate: int) -> np.ndarray:
    """The style's bed over the whole video (float32), faded in and out, unnormalised."""
    loop = _band_limited(render_loop(style, rate, key=_digest(prompt)), rate)
    total = round(duration * rate)
    bed = np.tile(loop, -(-total // len(loop)))[:total]
    fade_in = min(total, round(FADE_IN * rate))
    bed[:fade_in] *= np.linspace(0.0, 1.0, fade_in)
    fade_out = min(total, round(min(FADE_OUT, duration / 3) * rate))
    bed[total - fade_out :] *= np.linspace(1.0, 0.0, fade_out) ** 2
    return bed.astype(np.float32)
