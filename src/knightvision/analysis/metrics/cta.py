"""The call to action: phrases matched in the confident transcript (timed by its words) and in the
on-screen text spans (timed by the span start).

Strong phrases ("shop now", "sign up", "use code X", …) win over weak single words ("order",
"download", …); within a class the earliest match in the last third of the video is chosen (that
is where ads put their ask), else the earliest.
"""

from __future__ import annotations

import re
from typing import Any

from knightvision.analysis.metrics.text import TOKEN
from knightvision.providers.transcription.port import Transcript

CTA_STRONG = (
    "shop now", "buy now", "order now", "order today", "order yours", "get yours", "grab yours",
    "get it now", "get it today", "try it free", "try it for free", "try for free", "try it now",
    "start your free trial", "free trial", "sign up", "signup", "join now", "join today",
    "subscribe", "download now", "download the app", "download today", "get the app", "install now",
    "install the app", "link in bio", "link in my bio", "click the link", "tap the link",
    "swipe up", "learn more", "book now", "book today", "apply now", "claim your", "shop the",
    "visit our website", "use code", "use my code", "use promo code", "promo code",
)  # fmt: skip
CTA_WEAK = ("order", "download", "install", "buy", "shop", "visit", "subscribe", "join")
_CODE = re.compile(
    r"\b(?:use|with|enter)\s+(?:the\s+|my\s+|promo\s+|discount\s+)?code[\s:]+([A-Za-z0-9]{3,20})\b",
    re.IGNORECASE,
)

_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
CTA_WORDS_BEFORE = 3
CTA_WORDS_AFTER = 10


def _find_in_stream(words: list[str], phrases: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """``(first word, last word, phrase)`` for each phrase found in a stream of raw words."""
    tokens: list[tuple[str, int]] = [
        (token, i) for i, word in enumerate(words) for token in TOKEN.findall(word.lower())
    ]
    plain = [t for t, _ in tokens]
    found = []
    for phrase in phrases:
        target = TOKEN.findall(phrase)
        for i in range(len(plain) - len(target) + 1):
            if plain[i : i + len(target)] == target:
                found.append((tokens[i][1], tokens[i + len(target) - 1][1], phrase))
    return found


def _window(words: list[str], first: int, last: int) -> str:
    """The words around a match: back to the sentence start (at most 3 words), on to its end
    (at most 10 words after the match starts)."""
    lo = first
    while lo > 0 and first - lo < CTA_WORDS_BEFORE and not _SENTENCE_END.search(words[lo - 1]):
        lo -= 1
    hi = last
    while (
        hi + 1 < len(words) and hi - first < CTA_WORDS_AFTER and not _SENTENCE_END.search(words[hi])
    ):
        hi += 1
    return " ".join(words[lo : hi + 1])


def find_call_to_action(
    transcript: Transcript, on_screen_text: list[dict[str, Any]], duration: float
) -> dict[str, Any] | None:
    """The ad's call to action ``{text, phrase, time_s, source, sources, strength}`` or None.

    Searched in the confident transcript (timed by its words; low-confidence segments and
    untranscribable speech are ignored) and in the on-screen text spans (timed by their start).
    """
    streams: list[tuple[str, list[str], list[float | None]]] = []  # (source, words, times)
    if transcript.transcribable:
        doubtful = [s for s in transcript.segments if s.get("low_confidence")]
        if transcript.words:
            kept = [
                w
                for w in transcript.words
                if not any(
                    s["start"] - 0.05 <= float(w["start"]) <= s["end"] + 0.05 for s in doubtful
                )
            ]
            streams.append(
                ("speech", [str(w["word"]) for w in kept], [float(w["start"]) for w in kept])
            )
        elif transcript.segments:
            for segment in transcript.segments:
                if not segment.get("low_confidence"):
                    words = str(segment["text"]).split()
                    streams.append(("speech", words, [float(segment["start"])] * len(words)))
        elif transcript.text:  # engines without timestamps
            words = transcript.text.split()
            streams.append(("speech", words, [None] * len(words)))
    for span in on_screen_text:
        words = str(span["text"]).split()
        streams.append(("overlay", words, [float(span["start_s"])] * len(words)))

    candidates: list[dict[str, Any]] = []
    for source, words, times in streams:
        for strength, phrases in ((0, CTA_STRONG), (1, CTA_WEAK)):
            for first, last, phrase in _find_in_stream(words, phrases):
                text = _window(words, first, last)
                code = _CODE.search(text)
                if phrase in ("use code", "use my code", "use promo code", "promo code") and code:
                    phrase = f"use code {code.group(1)}"
                candidates.append(
                    {
                        "strength": strength,
                        "time_s": times[first],
                        "source": source,
                        "phrase": phrase,
                        "text": text,
                    }
                )
    if not candidates:
        return None
    best_strength = min(c["strength"] for c in candidates)
    pool = [c for c in candidates if c["strength"] == best_strength]
    late = [c for c in pool if c["time_s"] is not None and c["time_s"] >= duration * 2 / 3]
    timed = [c for c in pool if c["time_s"] is not None]
    choice = (
        min(late or timed, key=lambda c: (c["time_s"], c["source"] != "speech"))
        if (late or timed)
        else pool[0]
    )
    return {
        "text": choice["text"][:200],
        "phrase": choice["phrase"],
        "time_s": None if choice["time_s"] is None else round(choice["time_s"], 3),
        "source": choice["source"],
        # every source with a call to action of the same strength (said and/or shown)
        "sources": sorted({c["source"] for c in pool}, key=["speech", "overlay"].index),
        "strength": "strong" if choice["strength"] == 0 else "weak",
    }
