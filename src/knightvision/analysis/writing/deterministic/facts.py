"""Reading the inputs: what the ad says and shows, and whether it speaks, as every part of the
deterministic text (and the LLM writer's prompt and checks) sees them.

A value that was not measured (missing or null) reads as absent, never as a guess.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rapidfuzz.distance import Levenshtein

from knightvision.analysis.writing.document import ReportInputs

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
OFFER = re.compile(  # a line that states an offer: a price, a discount, a code, a free trial…
    r"\d+\s?%|[$€£]\s?\d|"
    r"\b(free|off|discount|save|sale|deal|limited|code|shipping|trial|offer|today only)\b",
    re.IGNORECASE,
)


class Speech(Enum):
    NO_AUDIO = "no_audio"
    NONE = "none"  # audio, but no speech found
    UNTRANSCRIBABLE = "untranscribable"  # speech the configured model cannot transcribe (D17)
    TRANSCRIBED = "transcribed"


@dataclass(frozen=True)
class Line:
    """A line the ad itself says or shows, with when it starts."""

    time_s: float
    text: str
    spoken: bool


def speech_state(inputs: ReportInputs) -> Speech:
    if inputs.metrics.get("has_audio") is False or inputs.transcript.get("has_audio") is False:
        return Speech.NO_AUDIO
    if inputs.transcript.get("transcribable") is False:
        return Speech.UNTRANSCRIBABLE
    if str(inputs.transcript.get("text") or "").strip():
        return Speech.TRANSCRIBED
    return Speech.NONE


def transcription(inputs: ReportInputs) -> str:
    """The documented ``transcription`` string: the text, empty for no speech, and an explicit note
    for speech that could not be transcribed (D17: reported as such, never turned into nonsense)."""
    state = speech_state(inputs)
    if state is Speech.TRANSCRIBED:
        return str(inputs.transcript["text"]).strip()
    if state is Speech.UNTRANSCRIBABLE:
        return f"[{untranscribable_phrase(inputs)}]"
    return ""


def as_number(mapping: dict[str, Any], key: str) -> float | None:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def normalised(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def measured_cta(inputs: ReportInputs) -> dict[str, Any] | None:
    for cta in (inputs.metrics.get("call_to_action"), inputs.breakdown.get("call_to_action")):
        if isinstance(cta, dict) and str(cta.get("text") or "").strip():
            return cta
    return None


def cta_channels(cta: dict[str, Any]) -> tuple[bool, bool]:
    """(said, shown): from ``sources`` (every channel carrying it) or the chosen ``source``;
    on-screen text is ``overlay`` in the metrics."""
    sources = cta.get("sources")
    if not isinstance(sources, list):
        sources = [cta.get("source")]
    names = " ".join(str(source) for source in sources if source)
    return "speech" in names, any(word in names for word in ("overlay", "screen", "text"))


END_TOLERANCE_S = 0.5  # an on-screen span ending this close to the end lasts to the last frame


def cta_on_screen(inputs: ReportInputs, cta: dict[str, Any]) -> list[dict[str, Any]]:
    """The on-screen text spans that carry the call to action (its phrase or its text)."""
    needles = {normalised(str(cta.get(key) or "")) for key in ("phrase", "text")} - {""}
    return [
        item
        for item in on_screen_texts(inputs)
        if any(f" {needle} " in f" {normalised(str(item['text']))} " for needle in needles)
    ]


def cta_held_to_end(inputs: ReportInputs, cta: dict[str, Any]) -> bool:
    """Whether the call to action is still on screen in the last frame."""
    if cta.get("to_last_frame") is True:
        return True
    duration = as_number(inputs.metrics, "duration_s")
    return duration is not None and any(
        (as_number(item, "end_s") or 0.0) >= duration - END_TOLERANCE_S
        for item in cta_on_screen(inputs, cta)
    )


def on_screen_texts(inputs: ReportInputs) -> list[dict[str, Any]]:
    items = inputs.metrics.get("on_screen_text") or []
    return [
        item for item in items if isinstance(item, dict) and str(item.get("text") or "").strip()
    ]


def transcript_segments(inputs: ReportInputs, *, confident: bool = False) -> list[dict[str, Any]]:
    """Transcribed segments with text; ``confident`` leaves out the ones the transcriber flagged
    ``low_confidence``, which are never quoted."""
    if speech_state(inputs) is not Speech.TRANSCRIBED:
        return []
    segments = [s for s in inputs.transcript.get("segments") or [] if isinstance(s, dict)]
    return [
        s
        for s in segments
        if str(s.get("text") or "").strip() and not (confident and s.get("low_confidence") is True)
    ]


def language_name(inputs: ReportInputs) -> str | None:
    language = inputs.transcript.get("language")
    return str(language) if language else None


def untranscribable_phrase(inputs: ReportInputs) -> str:
    language = language_name(inputs)
    in_language = f" (language: {language})" if language else ""
    note = str(inputs.transcript.get("note") or "").strip().rstrip(".")
    if note:  # the transcriber's own account: how much speech, and why it was withheld
        return f"Speech not transcribed{in_language}: {note}"
    return (
        f"Speech detected{in_language} "
        "but the configured transcription model could not transcribe it"
    )


def ad_lines(inputs: ReportInputs) -> list[Line]:
    """What the ad says (transcript sentences) and shows (on-screen text), in time order,
    deduplicated so a caption that repeats the speech counts once (as speech)."""
    lines: list[Line] = []
    for segment in transcript_segments(inputs, confident=True):
        start = as_number(segment, "start") or 0.0
        for sentence in _SENTENCE_END.split(" ".join(str(segment["text"]).split())):
            if sentence.strip():
                lines.append(Line(start, sentence.strip(), spoken=True))
    spoken = " ".join(normalised(line.text) for line in lines)
    for item in on_screen_texts(inputs):
        text = " ".join(str(item["text"]).split())
        if (
            normalised(text)
            and normalised(text) not in spoken
            and not _captions_speech(text, lines)
        ):
            lines.append(Line(as_number(item, "start_s") or 0.0, text, spoken=False))
    lines.sort(key=lambda line: (line.time_s, not line.spoken))
    unique: list[Line] = []
    seen: set[str] = set()
    for line in lines:
        if normalised(line.text) not in seen:
            seen.add(normalised(line.text))
            unique.append(line)
    return unique


_NAME = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b|\b[A-Z][a-zA-Z0-9]{2,}\b")
# Capitalised words that open sentences and buttons, never product names.
_NOT_NAMES = frozenset(
    {
        "The", "This", "That", "Then", "And", "But", "Get", "Tap", "Shop", "Buy", "Try", "Use",
        "Order", "Now", "Today", "Free", "New", "Our", "Your", "You", "Over", "With", "For",
        "Link", "Bio", "Sign", "Join", "Download",
    }
)  # fmt: skip


def sold_categories(inputs: ReportInputs) -> list[str]:
    """The kinds of thing the ad says it sells ("mug", "taza"), as the offer facts measured them."""
    offer = inputs.metrics.get("offer")
    sold = offer.get("sold") if isinstance(offer, dict) else None
    return [
        str(fact["text"]).strip()
        for fact in sold or []
        if isinstance(fact, dict) and fact.get("type") == "category" and str(fact.get("text") or "")
    ]


def product_name(inputs: ReportInputs) -> str | None:
    """The name the ad gives its product, when it names one: the product or brand the offer facts
    measured (``metrics.offer``), else a CamelCase word (``GlowWash``), else a capitalised word
    used mid-sentence in two lines or more. Never guessed from anything else."""
    offer = inputs.metrics.get("offer")
    for kind in ("product", "brand"):
        fact = offer.get(kind) if isinstance(offer, dict) else None
        if isinstance(fact, dict) and str(fact.get("text") or "").strip():
            return str(fact["text"]).strip()
    counts: dict[str, int] = {}
    for line in ad_lines(inputs):
        words = line.text.split()
        for index, match in enumerate(_NAME.finditer(line.text)):
            name = match.group(0)
            camel = any(ch.isupper() for ch in name[1:])
            initial = bool(words) and words[0].strip("¿¡\"'").startswith(name) and index == 0
            if name in _NOT_NAMES or (initial and not camel):
                continue
            if camel:
                return name
            counts[name] = counts.get(name, 0) + 1
    repeated = [name for name, count in counts.items() if count >= 2]
    return repeated[0] if repeated else None


_AUDIENCE_PATTERNS = (
    # "Tired of greasy hair by noon?" -> people tired of greasy hair by noon
    (re.compile(r"^(?:are you |feeling )?((?:tired|sick|fed up) (?:of|with) [^?.!]{3,60})\?", re.I),
     "people {}"),
    (re.compile(r"^(?:are you |still )?(struggling (?:with|to) [^?.!]{3,60})\?", re.I),
     "people {}"),
    (re.compile(r"^do you ((?:hate|love|want|need|struggle|wish|ever) [^?.!]{3,60})\?", re.I),
     "people who {}"),
    (re.compile(r"\bif you(?:'re| are) ([^,.!?]{3,60})[,.]", re.I), "people who are {}"),
    (re.compile(r"\bif you ([^,.!?]{3,60})[,.]", re.I), "people who {}"),
    (re.compile(r"\bmade for ((?:busy|new|working|first-time|young|older) [a-z]+)", re.I), "{}"),
)  # fmt: skip
_TO_THIRD_PERSON = {"you": "they", "your": "their", "yourself": "themselves", "you're": "they're"}


def audience(inputs: ReportInputs) -> str | None:
    """Who the ad speaks to, when one of its lines says so ("Tired of …?", "If you …,", "made for
    busy parents"); None otherwise. Never inferred from anything the ad does not say."""
    for line in ad_lines(inputs):
        for pattern, form in _AUDIENCE_PATTERNS:
            if match := pattern.search(line.text.strip()):
                words = match.group(1).strip().split()
                third = " ".join(_TO_THIRD_PERSON.get(word.lower(), word) for word in words)
                return form.format(third[0].lower() + third[1:])
    return None


CAPTION_LIKENESS = 0.75  # a caption this alike to a spoken line is that line written out
_NUMBER_WORDS = frozenset(
    {
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
        "hundred", "thousand", "million", "billion",
    }
)  # fmt: skip


def _without_numbers(text: str) -> str:
    """The words of ``text`` without its numbers, in digits or in words."""
    return " ".join(
        word
        for word in normalised(text).split()
        if not word.isdigit() and word not in _NUMBER_WORDS
    )


def _captions_speech(text: str, spoken: list[Line]) -> bool:
    """Whether an on-screen text is a spoken line written differently ("ten thousand" shown,
    "10,000" said), so the line counts once, as speech."""
    wanted = _without_numbers(text)
    return len(wanted.split()) >= 2 and any(
        Levenshtein.normalized_similarity(wanted, _without_numbers(line.text)) >= CAPTION_LIKENESS
        for line in spoken
    )


def covered_time(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of intervals."""
    return sum(stop - start for start, stop in _merge(intervals))


def overlap_time(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Length of time covered by both interval sets."""
    return sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in _merge(a) for y0, y1 in _merge(b))


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, stop in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged
