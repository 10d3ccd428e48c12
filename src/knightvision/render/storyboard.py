"""Prompt text -> scene plan (beats with frame-exact timings).

Kept free of drawing and audio so the plan can be unit-tested and is a pure,
deterministic function of (prompt, duration, fps): the same prompt always gives
the same scenes, which is what makes renders reproducible.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

#: A caption longer than this is split into several beats (about two lines of
#: large text on a 720 px wide frame).
MAX_BEAT_CHARS = 80
#: Shortest time a scene may be on screen; also caps how many scenes fit.
MIN_SCENE_SECONDS = 1.0

# A sentence ends at . ! ? … optionally followed by closing quotes/brackets,
# then whitespace; CJK full stops end one even without a space. Newlines
# always end a beat.
_SENTENCE_END = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+|([。！？]+[」』”’）]*)")
_CLAUSE_END = re.compile(r"[,;:—–]$")


@dataclass(frozen=True)
class Scene:
    """One beat of the storyboard: its caption/speech text and frame range."""

    index: int
    text: str
    start_frame: int
    frame_count: int
    fps: int

    @property
    def start(self) -> float:
        return self.start_frame / self.fps

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps

    @property
    def end(self) -> float:
        return (self.start_frame + self.frame_count) / self.fps

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frame_count

    @property
    def speakable(self) -> bool:
        """True when the text has something a voice can say (letters or digits)."""
        return any(ch.isalnum() for ch in self.text)


def normalize_text(text: str) -> str:
    """NFC-normalise and drop control characters and lone surrogates that break layout."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\r\t":
            kept.append("\n" if ch != "\t" else " ")
        elif category in ("Cc", "Cs"):  # private-use and unassigned stay: drawn as boxes, reported
            continue
        else:
            kept.append(ch)
    return "".join(kept)


def split_sentences(text: str) -> list[str]:
    """Split free text into sentences; lines without punctuation stay whole."""
    sentences: list[str] = []
    for line in normalize_text(text).split("\n"):
        marked = _SENTENCE_END.sub(lambda m: (m.group(1) or m.group(2)) + "\n", line)
        for part in marked.split("\n"):
            part = " ".join(part.split())
            if part:
                sentences.append(part)
    return sentences


def chunk_sentence(sentence: str, max_chars: int = MAX_BEAT_CHARS) -> list[str]:
    """Break an over-long sentence into caption-sized chunks.

    Words are packed greedily up to a per-chunk limit sized so the chunks come
    out similar in length; when a chunk overflows it is cut after the last
    clause mark (comma, semicolon, dash) in its second half if there is one,
    so captions read naturally. Words longer than a chunk (URLs, unspaced
    scripts) are cut hard.
    """
    if len(sentence) <= max_chars:
        return [sentence]
    words = [
        word[i : i + max_chars] for word in sentence.split() for i in range(0, len(word), max_chars)
    ]
    parts = math.ceil(len(sentence) / max_chars)
    limit = min(max_chars, math.ceil(len(sentence) / parts) + max_chars // 10)
    chunks: list[str] = []
    current: list[str] = []
    for word in words:
        if current and len(" ".join([*current, word])) > limit:
            cut = len(current)
            for i in range(len(current) - 1, 0, -1):
                if _CLAUSE_END.search(current[i - 1]) and len(" ".join(current[:i])) >= limit // 2:
                    cut = i
                    break
            chunks.append(" ".join(current[:cut]))
            current = current[cut:]
        current.append(word)
    if current:
        chunks.append(" ".join(current))
    return chunks


def split_beats(text: str, max_chars: int = MAX_BEAT_CHARS) -> list[str]:
    """Prompt -> caption-sized beats, in reading order."""
    return [
        chunk for sentence in split_sentences(text) for chunk in chunk_sentence(sentence, max_chars)
    ]


def merge_beats(beats: list[str], max_count: int) -> list[str]:
    """Merge neighbouring beats until at most max_count remain.

    Always merges the adjacent pair with the shortest combined text so the
    resulting scenes stay as even as possible (ties: earliest pair).
    """
    merged = list(beats)
    max_count = max(1, max_count)
    while len(merged) > max_count:
        best = min(range(len(merged) - 1), key=lambda i: (len(merged[i]) + len(merged[i + 1]), i))
        merged[best : best + 2] = [f"{merged[best]} {merged[best + 1]}"]
    return merged


def allocate_frames(weights: list[int], total_frames: int, min_frames: int) -> list[int]:
    """Split total_frames proportionally to weights, each at least min_frames.

    Uses the largest-remainder method so the result sums exactly to
    total_frames (no drift from float rounding).
    """
    count = len(weights)
    if count == 0:
        return []
    min_frames = min(min_frames, total_frames // count)
    spare = total_frames - min_frames * count
    total_weight = sum(weights)
    shares = [spare * w / total_weight for w in weights]
    frames = [min_frames + math.floor(share) for share in shares]
    leftover = total_frames - sum(frames)
    by_remainder = sorted(range(count), key=lambda i: (-(shares[i] - math.floor(shares[i])), i))
    for i in by_remainder[:leftover]:
        frames[i] += 1
    return frames


def plan_scenes(prompt: str, duration: int, fps: int) -> list[Scene]:
    """Plan scenes covering exactly duration*fps frames.

    Scene length is proportional to caption length (with a minimum on-screen
    time); prompts with more beats than fit are merged. An empty prompt gives
    one caption-less scene so there is always something to render.
    """
    total_frames = duration * fps
    max_scenes = max(1, int(duration // MIN_SCENE_SECONDS))
    beats = merge_beats(split_beats(prompt), max_scenes) or [""]
    weights = [max(1, len(beat.replace(" ", ""))) for beat in beats]
    frames = allocate_frames(weights, total_frames, round(MIN_SCENE_SECONDS * fps))
    scenes: list[Scene] = []
    start = 0
    for index, (beat, count) in enumerate(zip(beats, frames, strict=True)):
        scenes.append(Scene(index=index, text=beat, start_frame=start, frame_count=count, fps=fps))
        start += count
    return scenes
