"""The spoken and the on-screen language, side by side: real py3langid on real ad phrases in five
languages, and short or ambiguous text (brand names, "OK", numbers, addresses) left unknown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knightvision.analysis.metrics.language import (
    ON_SCREEN_MIN_CONFIDENCE,
    SPOKEN_MIN_PROBABILITY,
    detect_text_language,
    language_facts,
    language_phrase,
    on_screen_language,
    readable_text,
)
from knightvision.providers.transcription.port import Transcript
from tests.fixtures.ad_reports import fast_cut_ad, slow_silent_ad, untranscribable_ad
from tests.fixtures.text_ads import said, span, transcript

SILENT = Transcript.empty("test", "no speech detected")

# on-screen ad text a detector must get right, one language each
KNOWN = [
    ("en", "Tired of cold coffee every single morning at your desk?"),
    ("en", "Order yours today"),
    ("en", "Start your free trial"),
    ("en", "Download the app"),
    ("en", "ORDER YOURS TODAY"),  # shouted captions read as lower case
    ("es", "Compra ahora 20% de descuento"),
    ("es", "Tu café, caliente todo el día"),
    ("es", "Más información en la web"),
    ("es", "Pide el tuyo hoy"),
    ("pt", "Peça já o seu"),
    ("pt", "Frete grátis para todo o Brasil"),
    ("pt", "1 milhão de usuários"),
    ("fr", "Livraison gratuite dès 30 €"),
    ("fr", "En savoir plus"),
    ("fr", "Achetez maintenant en ligne"),
    ("de", "Jetzt bestellen"),
    ("de", "Mehr erfahren"),
    ("de", "15% Rabatt auf alles"),
    ("de", "50.000 zufriedene Kunden"),
]


@pytest.mark.parametrize(("language", "text"), KNOWN)
def test_ad_phrases_in_five_languages(language: str, text: str) -> None:
    found = detect_text_language(text)
    assert (found.language, found.reason) == (language, None)
    assert found.confidence is not None and found.confidence >= ON_SCREEN_MIN_CONFIDENCE


# (text, why it says nothing about a language)
UNKNOWN = [
    ("OK", "too_little_text"),
    ("HeatMug", "too_little_text"),
    ("Gratisversand", "too_little_text"),  # one word: German, but also a brand-like token
    ("50%", "no_text"),
    ("$29.99", "no_text"),
    ("2026", "no_text"),
    ("heatmug.com", "no_text"),
    ("@heatmug_de", "no_text"),
    ("www.heatmug.com/deals 50%", "no_text"),
    ("HeatMug Brightbrew", "ambiguous"),
    ("Black Friday", "ambiguous"),
    ("iPhone 15 Pro Max", "ambiguous"),
    ("Questa tazza mantiene il caffè caldo tutto il giorno", "other_language"),
    ("Kup teraz z darmową dostawą", "other_language"),
]


@pytest.mark.parametrize(("text", "reason"), UNKNOWN)
def test_short_or_ambiguous_text_is_unknown(text: str, reason: str) -> None:
    found = detect_text_language(text)
    assert (found.language, found.reason) == (None, reason)


def test_addresses_numbers_and_handles_are_not_read_as_words() -> None:
    assert readable_text("-30% at heatmug.com, @heatmug_de, SAVE20 for $29.99") == "at for"
    assert readable_text("JETZT BESTELLEN bei HeatMug") == "jetzt bestellen bei HeatMug"


def test_the_whole_ads_text_decides_not_one_short_span() -> None:
    """A lone "Pide ya" is too short to tell; the ad's spans together are plainly Spanish, each
    distinct text counted once."""
    assert detect_text_language("Pide ya").language is None
    spans = [
        span(0.0, 3.0, "Tu café, caliente todo el día"),
        span(3.0, 6.0, "Envío gratis"),
        span(6.0, 8.0, "Pide ya"),
        span(8.0, 10.0, "Tu café, caliente todo el día"),
        span(10.0, 12.0, "heatmug.es"),
    ]
    assert on_screen_language(spans).language == "es"


def test_both_languages_reported_side_by_side() -> None:
    spoken = replace(
        transcript(said(1.0, "Pide el tuyo hoy con envío gratis."), language="es"),
        language_probability=0.97,
    )
    facts = language_facts(spoken, [span(0.0, 4.0, "Compra ahora 20% de descuento")])
    assert facts["spoken"] == "es" and facts["spoken_probability"] == 0.97
    assert facts["spoken_detected"] is True
    assert facts["on_screen"] == "es" and facts["on_screen_confidence"] >= 0.8
    assert (facts["on_screen_reason"], facts["same"], facts["low_confidence"]) == (None, True, [])
    assert language_phrase(facts) == "in Spanish"


def test_spoken_language_below_the_threshold_is_low_confidence() -> None:
    unsure = replace(
        transcript(said(1.0, "Get yours today."), language="pt"),
        language_probability=SPOKEN_MIN_PROBABILITY - 0.2,
    )
    facts = language_facts(unsure, [span(0.0, 4.0, "Jetzt bestellen")])
    assert facts["spoken"] == "pt" and facts["low_confidence"] == ["spoken"]
    assert (facts["on_screen"], facts["same"]) == ("de", False)
    # the summary states only what is known with confidence
    assert language_phrase(facts) == "with on-screen text in German (spoken language uncertain)"


def test_an_assumed_language_is_not_a_detected_one() -> None:
    """An English-only model reports "en" without a probability: assumed, not detected."""
    assumed = transcript(said(1.0, "Shop now."), language="en")
    facts = language_facts(assumed, [])
    assert (facts["spoken"], facts["spoken_probability"], facts["spoken_detected"]) == (
        "en",
        None,
        False,
    )
    assert (facts["on_screen"], facts["on_screen_reason"], facts["low_confidence"]) == (
        None,
        "no_text",
        [],
    )


def test_speech_it_could_not_transcribe_keeps_the_language_it_detected() -> None:
    withheld = replace(
        Transcript.empty("test", "speech heard but not transcribed"),
        language="ja",
        language_probability=0.93,
        transcribable=False,
    )
    facts = language_facts(withheld, [span(0.0, 3.0, "Order yours today")])
    assert (facts["spoken"], facts["spoken_detected"], facts["same"]) == ("ja", True, False)
    assert language_phrase(facts) == "spoken in Japanese with on-screen text in English"


def test_no_speech_and_unreadable_text_are_unknown_not_guessed() -> None:
    facts = language_facts(SILENT, [span(0.0, 2.0, "HeatMug"), span(2.0, 4.0, "heatmug.com")])
    assert (facts["spoken"], facts["spoken_detected"], facts["on_screen"]) == (None, False, None)
    assert (facts["on_screen_reason"], facts["low_confidence"]) == (
        "too_little_text",
        ["on_screen"],
    )
    assert language_phrase(facts) is None


def test_our_english_fixture_ads_read_as_english() -> None:
    """The English test ads' on-screen text ("Greasy by noon?", "50% OFF", "Shop now"; "Handmade
    oak desks", "Order yours today", ...) is English."""
    for ad in (fast_cut_ad(), slow_silent_ad()):
        assert on_screen_language(ad.metrics["on_screen_text"]).language == "en"
    found = on_screen_language(untranscribable_ad().metrics.get("on_screen_text") or [])
    assert found.language in ("en", None)
