"""The ``summary``: what the ad is, what it sells and to whom (when the ad says so), its hook and
offer, its structure and its call to action."""

from __future__ import annotations

import re

from knightvision.analysis.metrics.language import language_phrase
from knightvision.analysis.writing.deterministic.benchmarks import HOOK_WINDOW_S
from knightvision.analysis.writing.deterministic.facts import (
    OFFER,
    Speech,
    ad_lines,
    as_number,
    audience,
    measured_cta,
    on_screen_texts,
    product_name,
    speech_state,
)
from knightvision.analysis.writing.deterministic.wording import (
    quote,
    seconds_text,
)
from knightvision.analysis.writing.document import ReportInputs
from knightvision.providers.ad_source.urls import PLATFORM_NAMES


def _orientation(width: float | None, height: float | None) -> str | None:
    if not width or not height:
        return None
    ratio = width / height
    return "vertical" if ratio < 0.95 else "square" if ratio <= 1.05 else "landscape"


def summary(inputs: ReportInputs) -> str:
    """2–4 sentences: what the ad is; what it sells to whom, its hook and offer; its structure;
    its CTA."""
    sentences = [_what_sentence(inputs)]
    selling = _selling_clause(inputs)
    lines = ad_lines(inputs)
    if selling and not lines:
        sentences.append(selling + ".")
    if lines:
        spoken_opening = [line for line in lines if line.spoken and line.time_s < HOOK_WINDOW_S]
        opener = spoken_opening[0] if spoken_opening else lines[0]
        said = "opens by saying" if opener.spoken else "opens with the on-screen text"
        about = f"It {said} {quote(opener.text, 100)}"
        if selling:  # one sentence: what it sells to whom, and how it opens
            about = f"{selling}; it {said} {quote(opener.text, 100)}"
        offer = next(
            (line for line in lines if line is not opener and OFFER.search(line.text)), None
        )
        if offer is not None:
            about += f" and features the offer {quote(offer.text, 100)}"
        sentences.append(about + ".")
    sentences.append(_structure_sentence(inputs))
    cta = measured_cta(inputs)
    if cta is None:
        sentences.append(_no_cta_sentence(inputs))
    else:
        at = as_number(cta, "time_s")
        when = f" at {seconds_text(at)}" if at is not None else ""
        sentences.append(f"It closes on the call to action {quote(cta['text'], 80)}{when}.")
    return " ".join(sentences)


def _no_cta_sentence(inputs: ReportInputs) -> str:
    """No CTA, said with where the ad ends instead, so it reads as this ad's."""
    if lines := ad_lines(inputs):
        return f"No call to action was detected; it ends on {quote(lines[-1].text, 80)}."
    duration = as_number(inputs.metrics, "duration_s")
    if duration is not None:
        return f"No call to action was detected in its {seconds_text(duration)}."
    return "No call to action was detected."


def _selling_clause(inputs: ReportInputs) -> str | None:
    """The product the ad names and the audience it addresses, as far as its own words say."""
    product, who = product_name(inputs), audience(inputs)
    if product and who:
        return f"It advertises {product} to {who}"
    if product:
        return f"It advertises {product}"
    if who:
        return f"It speaks to {who}"
    return None


def _what_sentence(inputs: ReportInputs) -> str:
    m, source = inputs.metrics, inputs.source
    duration = as_number(m, "duration_s")
    orientation, aspect = (
        _orientation(as_number(m, "width"), as_number(m, "height")),
        m.get("aspect_ratio"),
    )
    words = []
    if duration is not None:
        words.append(seconds_text(duration))
    if orientation:
        words.append(orientation + (f" ({aspect})" if aspect else ""))
    if platform := PLATFORM_NAMES.get(str(source.get("platform") or "").lower()):
        words.append(platform)
    sentence = _article(words[0] if words else "video") + " " + " ".join([*words, "video ad"])
    if languages := language_phrase(m.get("languages")):
        sentence += f" {languages}"
    if source.get("title"):
        sentence += f" titled {quote(str(source['title']), 80)}"
    if source.get("carousel"):
        sentence += ", the first video of a carousel ad"
    return sentence + "."


def _article(word: str) -> str:
    """ "An" before a vowel sound ("an 8.0 s", "an 11.5 s", "an Instagram"), else "A"."""
    spoken_vowel = re.match(r"(8|11(?!\d)|18(?!\d)|[aeiouAEIOU])", word)
    return "An" if spoken_vowel else "A"


def _structure_sentence(inputs: ReportInputs) -> str:
    m = inputs.metrics
    shots, asl = m.get("shot_count"), as_number(m, "average_shot_length_s")
    parts = []
    if isinstance(shots, int) and shots > 1:
        parts.append(
            f"{shots} shots" + (f" (average {seconds_text(asl)})" if asl is not None else "")
        )
    elif shots == 1:
        parts.append("a single continuous shot")
    state, words = speech_state(inputs), m.get("word_count")
    if state is Speech.TRANSCRIBED:
        parts.append(
            f"a voiceover of {words} words" if isinstance(words, int) and words > 0 else "speech"
        )
    else:
        parts.append(
            {
                Speech.UNTRANSCRIBABLE: "speech that could not be transcribed",
                Speech.NONE: "audio without speech",
                Speech.NO_AUDIO: "no audio track",
            }[state]
        )
    texts = len(on_screen_texts(inputs))
    parts.append(
        f"{texts} on-screen text block{'s' if texts != 1 else ''}" if texts else "no on-screen text"
    )
    return "It has " + ", ".join(parts[:-1]) + f" and {parts[-1]}."
