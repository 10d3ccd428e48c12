"""The call to action in five languages and where it is placed (spoken, button, URL, end card):
hand-built spans and transcripts, and silent rendered ads whose text OCR reads for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knightvision.analysis.metrics import measure
from knightvision.analysis.metrics.cta import call_to_action, find_call_to_action
from knightvision.media.frames import extract_frames
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import text_ads
from tests.fixtures.text_ads import said, span, transcript

SILENT = Transcript.empty("test", "no speech detected")


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        ("¡Pídelo hoy mismo!", "pidelo hoy"),
        ("Pídelo en nuestra web", "pidelo"),
        ("Pide el tuyo en nuestra web.", "pide el tuyo"),
        ("Compra ahora con envío gratis.", "compra ahora"),
        ("Más información en la web.", "mas informacion"),
        ("Compre agora e ganhe frete grátis.", "compre agora"),
        ("Peça já o seu.", "peca ja"),
        ("Saiba mais no nosso site.", "saiba mais"),
        ("Achetez maintenant en ligne.", "achetez maintenant"),
        ("Commandez dès aujourd'hui.", "commandez"),
        ("En savoir plus sur notre site.", "en savoir plus"),
        ("Jetzt kaufen und sparen.", "jetzt kaufen"),
        ("Jetzt bestellen, morgen geliefert.", "jetzt bestellen"),
        ("Mehr erfahren auf unserer Seite.", "mehr erfahren"),
        # OCR and ASR may drop the accents
        ("Pidelo hoy", "pidelo hoy"),
        ("Peca ja o seu", "peca ja"),
    ],
)
def test_cta_phrases_in_spanish_portuguese_french_german(sentence: str, phrase: str) -> None:
    spoken = call_to_action(transcript(said(20.0, sentence)), [], 24.0)
    assert spoken is not None
    assert (spoken["phrase"], spoken["strength"], spoken["kind"]) == (phrase, "strong", "spoken")
    assert (spoken["time_s"], spoken["to_last_frame"], spoken["on_screen"]) == (20.0, False, False)
    shown = call_to_action(SILENT, [span(20.0, 24.0, sentence)], 24.0)
    assert shown is not None and (shown["phrase"], shown["source"]) == (phrase, "overlay")


# (language, a button as ads write it, the phrase found)
BUTTONS = [
    ("en", "Shop Now", "shop now"),
    ("en", "Get Offer", "get offer"),
    ("es", "Comprar ya", "comprar ya"),
    ("es", "Pide ya", "pide ya"),
    ("es", "COMPRAR AHORA", "comprar ahora"),
    ("es", "Más info", "mas info"),
    ("es", "Reserva ya", "reserva ya"),
    ("es", "Aprovecha la oferta", "aprovecha la oferta"),
    ("pt", "Compre agora", "compre agora"),
    ("pt", "Comprar agora", "comprar agora"),
    ("pt", "Saiba mais", "saiba mais"),
    ("pt", "Peça já o seu", "peca ja"),
    ("pt", "Aproveite agora", "aproveite agora"),
    ("pt", "Cadastre-se", "cadastre se"),
    ("fr", "Commandez", "commandez"),
    ("fr", "En savoir plus", "en savoir plus"),
    ("fr", "Acheter maintenant", "acheter maintenant"),
    ("fr", "J'en profite", "j en profite"),
    ("fr", "Je commande", "je commande"),
    ("fr", "Téléchargez l'appli", "telechargez"),
    ("de", "Jetzt kaufen", "jetzt kaufen"),
    ("de", "Mehr erfahren", "mehr erfahren"),
    ("de", "Jetzt bestellen", "jetzt bestellen"),
    ("de", "Zum Angebot", "zum angebot"),
    ("de", "Jetzt einkaufen", "jetzt einkaufen"),
    ("de", "Bestell jetzt", "bestell jetzt"),
    ("de", "Angebot sichern", "angebot sichern"),
]


@pytest.mark.parametrize(("language", "text", "phrase"), BUTTONS)
def test_buttons_in_five_languages(language: str, text: str, phrase: str) -> None:
    """A button shown mid-ad among captions is the call to action, found as its strong phrase;
    the same words said are the spoken call to action."""
    spans = [
        span(0.0, 4.0, "Tu café caliente todo el día, en casa y en la oficina"),
        span(5.0, 8.0, text),
        span(8.0, 12.0, "Hecho a mano con cerámica de verdad y mucho cariño"),
    ]
    shown = call_to_action(SILENT, spans, 12.0)
    assert shown is not None
    assert (shown["phrase"], shown["strength"], shown["kind"], shown["time_s"]) == (
        phrase,
        "strong",
        "button",
        5.0,
    )
    spoken = call_to_action(transcript(said(9.0, f"{text}.")), [], 12.0)
    assert spoken is not None
    assert (spoken["phrase"], spoken["strength"], spoken["kind"]) == (phrase, "strong", "spoken")


# (an offer button or end card, the offer it shows, the address on it)
OFFER_CARDS = [
    ("-20 % en heatmug.es", "-20 %", "heatmug.es"),
    ("20% de desconto · heatmug.com.br", "20% de desconto", "heatmug.com.br"),
    ("Livraison gratuite sur heatmug.fr", "Livraison gratuite", "heatmug.fr"),
    ("Gratisversand · heatmug.de", "Gratisversand", "heatmug.de"),
    ("Nur € 19,99 auf heatmug.de", "€ 19,99", "heatmug.de"),
]


@pytest.mark.parametrize(("text", "offer", "url"), OFFER_CARDS)
def test_an_offer_and_address_alone_on_the_end_card_is_the_cta(
    text: str, offer: str, url: str
) -> None:
    spans = [span(0.0, 8.0, "Kaffee, der den ganzen Tag heiß bleibt"), span(8.0, 12.0, text)]
    cta = call_to_action(SILENT, spans, 12.0)
    assert cta is not None and (cta["kind"], cta["text"], cta["to_last_frame"]) == (
        "end_card",
        text,
        True,
    )
    (card,) = [p for p in cta["placements"] if p["kind"] == "end_card"]
    assert (card["offer"], card["url"]) == (offer, url)


def test_english_behaviour_is_kept() -> None:
    """The fields and choices of the English finder are unchanged; placement is added beside."""
    spoken = transcript(
        said(1.0, "Sign up for our newsletter."),
        said(25.0, "Download the app and try it free today."),
    )
    spans = [span(12.0, 14.0, "Order yours")]
    found = find_call_to_action(spoken, spans, 30.0)
    placed = call_to_action(spoken, spans, 30.0)
    assert found is not None and placed is not None
    assert {k: placed[k] for k in found} == found
    assert (placed["kind"], placed["on_screen"]) == ("spoken", True)
    kinds = [(p["kind"], p["start_s"]) for p in placed["placements"]]
    assert kinds == [("button", 12.0), ("spoken", 25.0)]


def test_a_button_with_a_discount_at_a_web_address_is_the_cta() -> None:
    spans = [
        span(0.0, 3.0, "Tired of cold coffee every single morning at your desk?"),
        span(3.0, 6.0, "-30% at heatmug.com"),
        span(6.0, 10.0, "Hot all day long"),
    ]
    cta = call_to_action(SILENT, spans, 10.0)
    assert cta is not None
    assert (cta["kind"], cta["time_s"], cta["source"], cta["text"]) == (
        "button",
        3.0,
        "overlay",
        "-30% at heatmug.com",
    )
    (button,) = cta["placements"]
    assert (button["url"], button["offer"], button["to_last_frame"]) == (
        "heatmug.com",
        "-30%",
        False,
    )
    assert (cta["to_last_frame"], cta["on_screen"]) == (False, True)


def test_a_web_address_alone_on_an_end_card_is_the_cta() -> None:
    spans = [span(0.0, 9.0, "Coffee that stays hot"), span(9.0, 11.8, "heatmug.com")]
    cta = call_to_action(SILENT, spans, 12.0)
    assert cta is not None
    assert (cta["kind"], cta["phrase"], cta["time_s"], cta["to_last_frame"]) == (
        "end_card",
        "heatmug.com",
        9.0,
        True,
    )
    # the same address gone a second before the end is a URL, not an end card
    early = call_to_action(SILENT, [span(0.0, 9.0, "Coffee"), span(9.0, 11.0, "heatmug.com")], 12.0)
    assert early is not None and (early["kind"], early["to_last_frame"]) == ("url", False)


def test_a_weak_spoken_word_gives_way_to_an_end_card() -> None:
    spoken = transcript(said(2.0, "We deliver every order fast."))
    cta = call_to_action(spoken, [span(8.0, 12.0, "heatmug.com")], 12.0)
    assert cta is not None and (cta["kind"], cta["phrase"]) == ("end_card", "heatmug.com")
    assert [p["kind"] for p in cta["placements"]] == ["spoken", "end_card"]


@pytest.mark.parametrize("card_s", [8.75, 8.6])
def test_an_ask_said_as_its_card_appears_is_the_card(card_s: float) -> None:
    """The voice says "Order" a beat before or after the end card shows it: one moment, and the
    card says how the ask is placed."""
    spoken = transcript(said(8.706, "Order yours today."))
    cta = call_to_action(spoken, [span(card_s, 12.0, "Order yours today")], 12.0)
    assert cta is not None and (cta["source"], cta["kind"], cta["time_s"]) == (
        "overlay",
        "end_card",
        card_s,
    )
    assert cta["sources"] == ["speech", "overlay"]


def test_an_ask_said_well_before_its_card_is_timed_by_the_voice() -> None:
    spoken = transcript(said(16.0, "Order yours today."))
    cta = call_to_action(spoken, [span(17.0, 20.0, "Order yours today")], 20.0)
    assert cta is not None and (cta["source"], cta["time_s"]) == ("speech", 16.0)


def test_a_spanish_end_card() -> None:
    cta = call_to_action(
        SILENT,
        [span(0.0, 9.0, "Tu café, caliente todo el día"), span(9.0, 12.0, "Pide el tuyo hoy")],
        12.0,
    )
    assert cta is not None
    assert (cta["phrase"], cta["kind"], cta["to_last_frame"], cta["time_s"]) == (
        "pide el tuyo",
        "end_card",
        True,
        9.0,
    )


def test_no_cta_is_invented() -> None:
    """Captions and speech that ask for nothing: no phrase, no address, no offer."""
    spoken = transcript(said(0.5, "Mornings are hard. Coffee makes them easier."))
    spans = [span(0.0, 4.0, "Mornings are hard"), span(4.0, 8.0, "Coffee makes them easy")]
    assert call_to_action(spoken, spans, 8.0) is None
    # a long caption that merely mentions a web address is not a button
    long_caption = [span(0.0, 8.0, "We started heatmug.com in a tiny kitchen ten years ago")]
    assert call_to_action(SILENT, long_caption, 8.0) is None


@pytest.mark.parametrize(
    "caption",
    ["Rioja Gran Reserva 2018", "Daten sichern leicht gemacht", "Einkaufen ohne Stress"],
)
def test_words_that_also_name_things_are_not_an_ask(caption: str) -> None:
    """ "Reserva", "sichern" and "einkaufen" ask only in their phrases ("Reserva ya", "Jetzt
    sichern", "Jetzt einkaufen"), so a short caption holding the word is no button."""
    spans = [span(0.0, 3.0, "Ein Wein mit echtem Charakter"), span(3.0, 5.0, caption)]
    assert call_to_action(SILENT, spans, 8.0) is None


# --- rendered ads: OCR reads the text the frames show -------------------------------------------


def _measured(ad: text_ads.TextAd, tmp_path: Path) -> dict[str, Any]:
    frames = extract_frames(ad.path, tmp_path / "frames")
    silent = Transcript.empty("test", "no audio track", has_audio=False)
    return measure(ad.path, frames, silent)


def test_rendered_button_ad(tmp_path: Path) -> None:
    m = _measured(text_ads.button_ad(), tmp_path)
    cta = m["call_to_action"]
    assert cta is not None and (cta["kind"], cta["source"]) == ("button", "overlay")
    assert cta["time_s"] == pytest.approx(3.0, abs=0.5)
    (button,) = cta["placements"]
    assert (button["url"], button["offer"], button["to_last_frame"]) == (
        "heatmug.com",
        "50% OFF",
        False,
    )
    offer = m["offer"]
    assert [(f["type"], f["value"], f["source"]) for f in offer["offers"]] == [
        ("discount", "50%", "on_screen")
    ]
    assert [(f["type"], f["value"]) for f in offer["links"]] == [("url", "heatmug.com")]
    assert offer["brand"]["value"] == "heatmug" and offer["brand"]["text"] == "heatmug.com"


def test_rendered_url_end_card_ad(tmp_path: Path) -> None:
    m = _measured(text_ads.url_end_card_ad(), tmp_path)
    cta = m["call_to_action"]
    assert cta is not None
    assert (cta["kind"], cta["phrase"], cta["to_last_frame"]) == ("end_card", "heatmug.com", True)
    assert cta["time_s"] == pytest.approx(5.0, abs=0.5)


def test_rendered_spanish_end_card_ad(tmp_path: Path) -> None:
    m = _measured(text_ads.spanish_end_card_ad(), tmp_path)
    cta = m["call_to_action"]
    assert cta is not None
    assert (cta["phrase"], cta["kind"], cta["to_last_frame"]) == ("pide el tuyo", "end_card", True)
    assert cta["time_s"] == pytest.approx(5.0, abs=0.5)


def test_rendered_ad_without_a_cta(tmp_path: Path) -> None:
    m = _measured(text_ads.no_cta_ad(), tmp_path)
    assert len(m["on_screen_text"]) == 2  # the text was read, and asks for nothing
    assert m["call_to_action"] is None
    assert (m["offer"]["offers"], m["offer"]["links"], m["offer"]["brand"]) == ([], [], None)


def test_rendered_spanish_offer_ad(tmp_path: Path) -> None:
    m = _measured(text_ads.spanish_offer_ad(), tmp_path)
    offer = m["offer"]
    facts = {(f["type"], f["value"]) for f in offer["offers"] + offer["proof"] + offer["links"]}
    assert facts == {
        ("free_shipping", "free_shipping"),
        ("rating", "4.8/5"),
        ("discount", "30%"),
        ("price", "29.99 EUR"),
        ("promo_code", "SOL20"),
        ("url", "solcafe.es"),
    }
    times = {f["type"]: f["times_s"][0] for f in offer["offers"] + offer["proof"]}
    assert times["free_shipping"] == pytest.approx(0.0, abs=0.5)
    assert times["discount"] == pytest.approx(3.0, abs=0.5)
    assert times["promo_code"] == pytest.approx(6.0, abs=0.5)
    assert offer["brand"]["value"] == "solcafe"
    cta = m["call_to_action"]
    assert (cta["phrase"], cta["kind"], cta["to_last_frame"]) == ("pidelo", "end_card", True)
    assert [p["kind"] for p in cta["placements"]].count("button") == 3
