"""Prompt text -> scene plan (beats with frame-exact timings).

Kept free of drawing and audio so the plan can be unit-tested and is a pure,
deterministic function of (prompt, duration, fps): the same prompt always gives
the same scenes, which is what makes renders reproducible.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, replace

from .line_breaks import break_offsets
from .roles import DEFAULT_CTA, Role, is_call_to_action, prompt_language, role_of

#: A caption longer than this is split into several beats (about two lines of
#: large text on a 720 px wide frame).
MAX_BEAT_CHARS = 80
#: Shortest time a scene may be on screen; also caps how many scenes fit.
MIN_SCENE_SECONDS = 1.0
#: The end card's share of the video, within these bounds in seconds (it must be read, and the
#: button tapped, but it says little).
END_CARD_SHARE = 0.2
END_CARD_SECONDS = (1.5, 3.0)
#: A short prompt's body needs only the time to say it (at an ad's pace), a beat after each
#: scene and a moment more; the end card is then held longer, up to this share of the video,
#: rather than the body's last words standing alone under the music.
HELD_END_CARD_SHARE = 0.5
BODY_WORDS_PER_SECOND = 2.5  # 150 words a minute
BODY_HOLD_SECONDS = (0.6, 1.0)  # after each body scene, and once more

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
    role: Role = Role.HOOK
    language: str = "en"  # the prompt's, for the end card's default words
    said: bool = True  # False: shown, not voiced (the default end card of a wordless prompt)

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
        """True when the text has something our voice can say (see :func:`voice_can_say`)."""
        return self.said and voice_can_say(self.text)

    @property
    def unspoken(self) -> bool:
        """Words meant to be said that our voice cannot say: shown, and the music carries them."""
        return self.said and not self.speakable and any(ch.isalnum() for ch in self.text)


def voice_can_say(text: str) -> bool:
    """Whether the bundled English voice can read ``text``: digits, or letters at least half of
    which are Latin script. It reads other scripts letter by letter by their names ("Japanese
    letter, Japanese letter…"), which must never be heard."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return any(ch.isdigit() for ch in text)
    latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    return latin * 2 >= len(letters)


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
    so captions read naturally. Text longer than a chunk without spaces is cut
    between phrases where its script has them (Japanese, Chinese, Thai:
    :mod:`.line_breaks`), else hard (a URL).
    """
    if len(sentence) <= max_chars:
        return [sentence]
    parts = math.ceil(len(sentence) / max_chars)
    limit = min(max_chars, math.ceil(len(sentence) / parts) + max_chars // 10)
    words = [piece for word in sentence.split() for piece in _cut_word(word, limit, max_chars)]
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


def _cut_word(word: str, limit: int, max_chars: int) -> list[str]:
    """word in pieces of about `limit` characters, cut at the last phrase boundary within it;
    where there is none, at max_chars (a word up to max_chars stays whole)."""
    breaks = break_offsets(word)
    pieces: list[str] = []
    start = 0
    while len(word) - start > limit:
        within = [b for b in breaks if start < b <= start + limit]
        cut = max(within) if within else min(len(word), start + max_chars)
        pieces.append(word[start:cut])
        start = cut
    if start < len(word):
        pieces.append(word[start:])
    return pieces


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


def _end_card(beats: list[str], language: str) -> tuple[list[str], str | None]:
    """Split the beats into the body and the end card's text.

    The end card says the prompt's last call to action (an imperative or a URL, taken out of the
    body so it is not said twice); a prompt without one ends on a neutral invitation in its
    language (None here: the caller says it).
    """
    for i in range(len(beats) - 1, 0, -1):
        if is_call_to_action(beats[i]):
            return beats[:i] + beats[i + 1 :], beats[i]
    return beats, None


def cut_before_speech(
    scenes: list[Scene], speech_starts: dict[int, float], lead: float
) -> list[Scene]:
    """The scenes with each cut moved to `lead` seconds before its scene's speech starts.

    The plan shares time by text length before anything is said; the voice then needs what it
    needs (a pause, a long number read out), so a sentence could start a little before its
    scene or run on into the next one. Cutting where the speech is keeps every caption on screen
    while its words are heard. A scene without speech keeps its planned cut; every scene keeps
    at least half a second (or its planned length, if shorter) and the video its length.
    """
    if len(scenes) < 2:
        return scenes
    fps = scenes[0].fps
    total = scenes[-1].end_frame
    shortest = min(round(0.5 * fps), min(scene.frame_count for scene in scenes))
    starts = [0]
    for i, scene in enumerate(scenes[1:], start=1):
        spoken = speech_starts.get(scene.index)
        wanted = math.floor((spoken - lead) * fps) if spoken is not None else scene.start_frame
        latest = total - (len(scenes) - i) * shortest
        starts.append(min(max(wanted, starts[-1] + shortest), latest))
    ends = [*starts[1:], total]
    return [
        replace(scene, start_frame=start, frame_count=end - start)
        for scene, start, end in zip(scenes, starts, ends, strict=True)
    ]


def plan_scenes(prompt: str, duration: int, fps: int) -> list[Scene]:
    """Plan scenes covering exactly duration*fps frames, each with its role.

    The first beat is the hook and the last scene the end card (from 2 s on; a 1 s video is all
    hook), held longer when the body says little. Body scene length is proportional to caption
    length (with a minimum on-screen time); prompts with more beats than fit are merged. An empty
    prompt gives one caption-less scene so there is always something to render.
    """
    total_frames = duration * fps
    beats = split_beats(prompt)
    language = prompt_language(prompt)
    if not beats:
        return [Scene(0, "", 0, total_frames, fps, Role.HOOK, language)]
    card_frames = 0
    card_text: str | None = None
    if duration >= 2 * MIN_SCENE_SECONDS:
        beats, card_text = _end_card(beats, language)
        low, high = END_CARD_SECONDS
        card = min(high, max(low, duration * END_CARD_SHARE))
        words = sum(len(beat.split()) for beat in beats)
        per_scene, once = BODY_HOLD_SECONDS
        body = words / BODY_WORDS_PER_SECOND + per_scene * len(beats) + once
        card = max(card, min(duration * HELD_END_CARD_SHARE, duration - body))
        card_frames = round(card * fps)
        card_frames = min(card_frames, total_frames - round(MIN_SCENE_SECONDS * fps))
    body_frames = total_frames - card_frames
    max_scenes = max(1, int(body_frames / fps // MIN_SCENE_SECONDS))
    beats = merge_beats(beats, max_scenes)
    weights = [max(1, len(beat.replace(" ", ""))) for beat in beats]
    frames = allocate_frames(weights, body_frames, round(MIN_SCENE_SECONDS * fps))
    scenes: list[Scene] = []
    start = 0
    for index, (beat, count) in enumerate(zip(beats, frames, strict=True)):
        role = role_of(beat, index)
        scenes.append(Scene(index, beat, start, count, fps, role, language))
        start += count
    if card_frames:
        # The prompt's own call to action is meant to be said (and reported if our voice cannot);
        # the default invitation is voiced only after words: an emoji-only prompt stays silent.
        said = card_text is not None or any(scene.speakable for scene in scenes)
        text = card_text if card_text is not None else DEFAULT_CTA[language]
        scenes.append(
            Scene(len(scenes), text, start, card_frames, fps, Role.END_CARD, language, said)
        )
    return scenes
