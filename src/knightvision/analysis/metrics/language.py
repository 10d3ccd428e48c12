"""The spoken and the on-screen language of an ad, side by side (``metrics.languages``; the
older ``metrics.language`` stays the transcript's language, a string).

Spoken: what the transcriber detected (``Transcript.language`` and ``language_probability``);
an engine that assumes its language (an English-only model) reports it with no probability, so
``spoken_detected`` is false. A detected language below ``SPOKEN_MIN_PROBABILITY`` is reported
as low confidence.

On screen: py3langid (a naive Bayes model over byte n-grams of 97 languages, shipped in its
wheel, about 100 MB resident; loaded once in ``engines``) scores the ad's on-screen text, every
distinct span once, in time order. Its probabilities are calibrated to the text's length. URLs,
handles, numbers and prices are removed first; what is left must hold at least ``MIN_WORDS``
words and ``MIN_LETTERS`` letters, else the language is unknown (a brand name, "OK", "50%" or an
address says nothing about a language). The answer is one of ``LANGUAGES``, the languages the
offer and call to action are read in (``offer.py``, ``cta.py``): it is reported when the five
hold at least ``MIN_SHARE_OF_FIVE`` of the probability over all the model's languages (else the
text is in another language) and the best of them holds at least ``ON_SCREEN_MIN_CONFIDENCE``
among the five; otherwise it is unknown, with the reason, and listed in ``low_confidence``.
``bench/language_bench.py`` measures the choice (accuracy, load time, memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from knightvision.analysis.metrics.engines import language_identifier
from knightvision.analysis.metrics.offer import HANDLE, URL
from knightvision.providers.transcription.port import Transcript

#: the languages the offer and the call to action are read in; the on-screen answer is one of them
LANGUAGES = ("en", "es", "pt", "fr", "de")
#: names for the summary line: the five, and other languages speech recognition often reports
NAMES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German",
    "it": "Italian", "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian",
    "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "ja": "Japanese", "ko": "Korean",
    "zh": "Chinese", "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "sv": "Swedish",
}  # fmt: skip
#: a detected spoken language below this probability is low confidence (Whisper reports 0.9+ on
#: clear speech in one language; mixed or unclear speech falls well below)
SPOKEN_MIN_PROBABILITY = 0.7
#: fewer letter words or letters than this (after removing addresses and numbers) is unknown:
#: "Shop now" is two words and 7 letters, "Jetzt bestellen" 14
MIN_WORDS = 2
MIN_LETTERS = 6
#: the five languages must hold at least this share of the probability over all the model's
#: languages: Italian or Dutch text leaves them under 0.01, short text in one of them 0.1 to 0.9
#: (a two-word phrase spreads its probability over related languages)
MIN_SHARE_OF_FIVE = 0.05
#: the best of the five must hold at least this share among the five: our short ad phrases that
#: pass score 0.8 to 1.0, brand names and product lines ("Brightbrew Coffee Co", "Black Friday",
#: "iPhone 15 Pro Max") 0.3 to 0.75
ON_SCREEN_MIN_CONFIDENCE = 0.8

_PRICE_OR_NUMBER = re.compile(r"[^\W_]*\d[^\s]*")  # "50%", "$29.99", "x2", "SAVE20"
_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only, two or more


@dataclass(frozen=True)
class OnScreenLanguage:
    language: str | None  # one of LANGUAGES, or None when unknown
    confidence: float | None  # the best of the five's share among the five; None without text
    reason: str | None  # why it is unknown: "no_text", "too_little_text", "other_language", ...


def readable_text(text: str) -> str:
    """The words of ``text`` that can tell a language: without web addresses, handles, numbers,
    prices and codes."""
    text = URL.sub(" ", text)
    text = HANDLE.sub(" ", text)
    text = _PRICE_OR_NUMBER.sub(" ", text)
    # shouted captions ("SHOP NOW") read as words: the model is trained on running text
    return " ".join(w.lower() if w.isupper() else w for w in _WORD.findall(text))


def detect_text_language(text: str) -> OnScreenLanguage:
    """The language of one piece of text, one of ``LANGUAGES`` or unknown (with the reason)."""
    readable = readable_text(text)
    if not readable:
        return OnScreenLanguage(None, None, "no_text")
    words = readable.split()
    if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS:
        return OnScreenLanguage(None, None, "too_little_text")
    ranked = dict(language_identifier().rank(readable))
    five = {code: float(ranked.get(code, 0.0)) for code in LANGUAGES}
    share = sum(five.values())
    if share < MIN_SHARE_OF_FIVE:
        return OnScreenLanguage(None, None, "other_language")
    best = max(five, key=lambda code: five[code])
    confidence = round(five[best] / share, 3)
    if confidence < ON_SCREEN_MIN_CONFIDENCE:
        return OnScreenLanguage(None, confidence, "ambiguous")
    return OnScreenLanguage(best, confidence, None)


def on_screen_language(on_screen_text: list[dict[str, Any]]) -> OnScreenLanguage:
    """The language of the ad's on-screen text: every distinct span once, in time order, as one
    text (a lone "Shop now" is short; the whole ad's text is not)."""
    seen: dict[str, None] = {}
    for span in sorted(on_screen_text, key=lambda s: float(s["start_s"])):
        text = str(span["text"]).strip()
        if text:
            seen.setdefault(text, None)
    return detect_text_language(". ".join(seen))


def language_facts(transcript: Transcript, on_screen_text: list[dict[str, Any]]) -> dict[str, Any]:
    """``metrics.languages``: the spoken and the on-screen language side by side.

    ``spoken`` is the transcriber's language (None without speech, or when the engine neither
    detected nor assumed one; speech it could not transcribe keeps the language it detected);
    ``spoken_detected`` says whether the engine detected it (or assumed it);
    ``spoken_probability`` is its probability when detected. ``on_screen`` and
    ``on_screen_confidence`` are :func:`on_screen_language`'s answer; ``on_screen_reason`` says
    why it is unknown. ``low_confidence`` names the fields (``spoken``, ``on_screen``) that are
    unknown or below their threshold though there was speech or text to read. ``same`` is true or
    false when both are known, else None.
    """
    spoken = transcript.language
    probability = transcript.language_probability if spoken else None
    detected = spoken is not None and probability is not None
    shown = on_screen_language(on_screen_text)
    low: list[str] = []
    if detected and probability is not None and probability < SPOKEN_MIN_PROBABILITY:
        low.append("spoken")
    if shown.language is None and shown.reason != "no_text":
        low.append("on_screen")
    return {
        "spoken": spoken,
        "spoken_probability": None if probability is None else round(float(probability), 3),
        "spoken_detected": detected,
        "on_screen": shown.language,
        "on_screen_confidence": shown.confidence,
        "on_screen_reason": shown.reason,
        "same": None if not (spoken and shown.language) else spoken == shown.language,
        "low_confidence": low,
    }


def language_phrase(languages: dict[str, Any] | None) -> str | None:
    """The ad's languages as a phrase for the summary's first sentence ("in Spanish", "spoken in
    Japanese with on-screen text in English"); None when neither is known. A low-confidence answer
    is not stated as a fact: "(spoken language uncertain)" takes its place."""
    if not languages:
        return None
    spoken, shown = languages.get("spoken"), languages.get("on_screen")
    unsure = "spoken" in languages.get("low_confidence", [])
    assumed = not languages.get("spoken_detected")  # an English-only model's, not a finding
    spoken_name = None if unsure or assumed or not spoken else NAMES.get(spoken, spoken)
    shown_name = NAMES.get(shown, shown) if shown else None
    if spoken_name and spoken_name == shown_name:
        phrase = f"in {spoken_name}"
    elif spoken_name and shown_name:
        phrase = f"spoken in {spoken_name} with on-screen text in {shown_name}"
    elif spoken_name:
        phrase = f"spoken in {spoken_name}"
    elif shown_name:
        phrase = f"with on-screen text in {shown_name}"
    else:
        return "(spoken language uncertain)" if unsure and spoken else None
    return f"{phrase} (spoken language uncertain)" if unsure and spoken else phrase
