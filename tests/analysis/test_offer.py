"""The offer, measured from hand-built on-screen spans and transcripts in five languages: every
fact found with its words, quote, time and source, and none invented."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from knightvision.analysis.metrics.offer import offer_facts, parse_number
from knightvision.analysis.reconcile import reconcile_metrics
from knightvision.providers.transcription.port import Transcript
from tests.fixtures.text_ads import said, span, transcript

SILENT = Transcript.empty("test", "no speech detected")


def _all(offer: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for group in ("sold", "offers", "proof", "links") for f in offer[group]]


def _one(offer: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [f for f in _all(offer) if f["type"] == kind]
    assert len(found) == 1, (kind, _all(offer))
    return found[0]


# (language, on-screen text, fact type, value, the words quoted)
ON_SCREEN = [
    # discounts
    ("en", "Get 50% off today", "discount", "50%", "50% off"),
    ("en", "Save $10 on your first order", "discount", "10 USD", "Save $10"),
    ("es", "-30% en toda la tienda", "discount", "30%", "-30%"),
    ("es", "Ahora 40% de descuento", "discount", "40%", "40% de descuento"),
    ("pt", "Desconto de 20% hoje", "discount", "20%", "Desconto de 20%"),
    ("fr", "25 % de réduction", "discount", "25%", "25 % de réduction"),
    ("de", "15% Rabatt auf alles", "discount", "15%", "15% Rabatt"),
    # prices, currency before and after, both decimal marks
    ("en", "Only $29.99", "price", "29.99 USD", "$29.99"),
    ("es", "Solo 29,99 €", "price", "29.99 EUR", "29,99 €"),
    ("pt", "Por apenas R$ 49,90", "price", "49.9 BRL", "R$ 49,90"),
    ("fr", "Seulement 19,90 €", "price", "19.9 EUR", "19,90 €"),
    ("de", "Nur 1.299,00 EUR", "price", "1299 EUR", "1.299,00 EUR"),
    # free shipping and trials
    ("en", "Free shipping worldwide", "free_shipping", "free_shipping", "Free shipping"),
    ("es", "Envío gratis a toda España", "free_shipping", "free_shipping", "Envío gratis"),
    ("pt", "Frete grátis para todo o Brasil", "free_shipping", "free_shipping", "Frete grátis"),
    ("fr", "Livraison gratuite", "free_shipping", "free_shipping", "Livraison gratuite"),
    ("de", "Kostenloser Versand", "free_shipping", "free_shipping", "Kostenloser Versand"),
    ("en", "Start your free trial", "free_trial", "free_trial", "free trial"),
    ("es", "Prueba gratis 7 días", "free_trial", "free_trial", "Prueba gratis"),
    ("pt", "Teste grátis por 30 dias", "free_trial", "free_trial", "Teste grátis"),
    ("fr", "Essai gratuit de 14 jours", "free_trial", "free_trial", "Essai gratuit"),
    ("de", "Jetzt kostenlos testen", "free_trial", "free_trial", "kostenlos testen"),
    ("es", "Regalo gratis", "free", "free", "gratis"),
    ("de", "Die App ist kostenlos", "free", "free", "kostenlos"),
    # promo codes
    ("en", "Use code SAVE20 at checkout", "promo_code", "SAVE20", "code SAVE20"),
    ("es", "Código VERANO15", "promo_code", "VERANO15", "Código VERANO15"),
    ("pt", "Cupom FRETE10", "promo_code", "FRETE10", "Cupom FRETE10"),
    ("fr", "Code promo ETE20", "promo_code", "ETE20", "Code promo ETE20"),
    ("de", "Gutscheincode SOMMER15", "promo_code", "SOMMER15", "Gutscheincode SOMMER15"),
    # ratings
    ("en", "4.8 stars on the App Store", "rating", "4.8/5", "4.8 stars"),
    ("en", "★★★★★ loved by parents", "rating", "5/5", "★★★★★"),
    ("es", "4,5 estrellas", "rating", "4.5/5", "4,5 estrellas"),
    ("pt", "Nota 4,7/5", "rating", "4.7/5", "4,7/5"),
    ("fr", "Noté 4,6 sur 5", "rating", "4.6/5", "Noté 4,6"),
    ("de", "4,9 von 5 Sternen", "rating", "4.9/5", "4,9 von 5 Sternen"),
    # user and review counts
    ("en", "Join 1 million users", "user_count", 1_000_000, "1 million users"),
    ("en", "20,000 reviews", "review_count", 20_000, "20,000 reviews"),
    ("es", "Más de 10.000 clientes felices", "user_count", 10_000, "10.000 clientes"),
    ("pt", "1 milhão de usuários", "user_count", 1_000_000, "1 milhão de usuários"),
    ("fr", "Plus de 20 000 avis", "review_count", 20_000, "20 000 avis"),
    ("de", "50.000 zufriedene Kunden", "user_count", 50_000, "50.000 zufriedene Kunden"),
    (
        "en",
        "Over ten thousand happy customers",
        "user_count",
        10_000,
        "ten thousand happy customers",
    ),
    ("es", "Más de un millón de clientes", "user_count", 1_000_000, "un millón de clientes"),
    # testimonials: a quoted customer line
    ("en", '"Best mug I ever owned" - Anna', "testimonial", None, "Best mug I ever owned"),
    (
        "es",
        "«La mejor taza que he tenido» – Ana",
        "testimonial",
        None,
        "La mejor taza que he tenido",
    ),
    ("pt", "“Minha caneca favorita de todas” - Bia", "testimonial", None, None),
    ("fr", "« Ma tasse préférée depuis des années »", "testimonial", None, None),
    ("de", "„Die beste Tasse, die ich je hatte“", "testimonial", None, None),
    # web addresses and handles
    ("en", "Shop at www.heatmug.com/deals", "url", "heatmug.com", "www.heatmug.com/deals"),
    ("es", "heatmug.es", "url", "heatmug.es", "heatmug.es"),
    ("pt", "Acesse heatmug.com.br", "url", "heatmug.com.br", "heatmug.com.br"),
    ("fr", "Rendez-vous sur https://heatmug.fr", "url", "heatmug.fr", "https://heatmug.fr"),
    ("de", "Folge @heatmug_de", "handle", "@heatmug_de", "@heatmug_de"),
    # what is sold
    ("en", "The smart mug for busy mornings", "category", "mug", "mug"),
    ("es", "La taza inteligente", "category", "taza", "taza"),
    ("pt", "A caneca inteligente", "category", "caneca", "caneca"),
    ("fr", "La tasse intelligente", "category", "tasse", "tasse"),
    ("de", "Der smarte Becher", "category", "becher", "Becher"),
    # as ads write them: a space before "%", a minus sign, decimal commas, the currency first,
    # German compounds, a star after the number, "Mio."
    ("es", "Compra ahora 20 % de descuento", "discount", "20%", "20 % de descuento"),
    ("es", "Ahorra un 20% en tu primer pedido", "discount", "20%", "Ahorra un 20%"),
    ("pt", "Até 50% de desconto", "discount", "50%", "Até 50% de desconto"),
    ("fr", "Jusqu'à -50 % sur tout", "discount", "50%", "-50 %"),
    ("fr", "−30% sur la collection", "discount", "30%", "−30%"),
    ("de", "Sparen Sie bis zu 30 %", "discount", "30%", "Sparen Sie bis zu 30 %"),
    ("de", "-20 % auf alles", "discount", "20%", "-20 %"),
    ("es", "Ahora € 19,99", "price", "19.99 EUR", "€ 19,99"),
    ("pt", "Apenas R$49,90", "price", "49.9 BRL", "R$49,90"),
    ("fr", "À partir de 9,99 €/mois", "price", "9.99 EUR", "9,99 €"),
    ("de", "Ab 1.299 €", "price", "1299 EUR", "1.299 €"),
    ("es", "Envíos gratuitos en 24 h", "free_shipping", "free_shipping", "Envíos gratuitos"),
    ("pt", "FRETE GRÁTIS", "free_shipping", "free_shipping", "FRETE GRÁTIS"),
    ("fr", "Frais de port offerts", "free_shipping", "free_shipping", "Frais de port offerts"),
    ("de", "Gratisversand", "free_shipping", "free_shipping", "Gratisversand"),
    ("de", "Gratis-Versand ab 30 €", "free_shipping", "free_shipping", "Gratis-Versand"),
    ("de", "Kostenlose Lieferung", "free_shipping", "free_shipping", "Kostenlose Lieferung"),
    ("es", "Prueba gratuita de 30 días", "free_trial", "free_trial", "Prueba gratuita"),
    ("de", "Kostenlose Testversion", "free_trial", "free_trial", "Kostenlose Testversion"),
    ("es", "4,8 ★ en la App Store", "rating", "4.8/5", "4,8 ★"),
    ("fr", "★ 4,7 sur l'App Store", "rating", "4.7/5", "★ 4,7"),
    ("de", "2 Mio. Nutzer", "user_count", 2_000_000, "2 Mio. Nutzer"),
    ("fr", "Plus d'un million d'utilisateurs", "user_count", 1_000_000, None),
    ("pt", "Mais de 500 mil clientes", "user_count", 500_000, "500 mil clientes"),
    ("de", "10k+ Bewertungen", "review_count", 10_000, "10k+ Bewertungen"),
    ("es", "Cupón: VERANO20", "promo_code", "VERANO20", "Cupón: VERANO20"),
    ("fr", "Utilisez le code BIENVENUE10", "promo_code", "BIENVENUE10", "code BIENVENUE10"),
    ("de", "Rabattcode HALLO10", "promo_code", "HALLO10", "Rabattcode HALLO10"),
    ("pt", "heatmug.com.br/oferta", "url", "heatmug.com.br", "heatmug.com.br/oferta"),
    ("es", "Síguenos en @heatmug.es", "handle", "@heatmug.es", "@heatmug.es"),
]


@pytest.mark.parametrize(("language", "text", "kind", "value", "words"), ON_SCREEN)
def test_each_fact_on_screen_in_five_languages(
    language: str, text: str, kind: str, value: Any, words: str | None
) -> None:
    offer = offer_facts(SILENT, [span(4.0, 7.0, text)])
    fact = _one(offer, kind)
    if value is not None:
        assert fact["value"] == value
    if words is not None:
        assert fact["text"] == words
    assert fact["text"] in text  # quoted, never made up
    assert (fact["quote"], fact["times_s"], fact["source"]) == (text, [4.0], "on_screen")


# (language, a spoken sentence, fact type, value, the first word of the fact)
SPOKEN = [
    ("en", "Right now you get fifty percent... no, 50% off everything.", "discount", "50%", "50%"),
    ("es", "Hoy tienes envío gratis en tu pedido.", "free_shipping", "free_shipping", "envío"),
    ("pt", "Mais de 1 milhão de clientes já confiam.", "user_count", 1_000_000, "1"),
    ("fr", "Profitez de la livraison gratuite dès maintenant.", "free_shipping", None, "livraison"),
    ("de", "Nur heute 20% Rabatt auf alle Becher.", "discount", "20%", "20%"),
    ("en", "Visit heatmug dot com to learn more.", "url", "heatmug.com", "heatmug"),
    # speech recognition writes the percent as a word, and the address as said
    ("de", "Jetzt 20 Prozent Rabatt auf alles.", "discount", "20%", "20"),
    ("es", "Llévate un 30 por ciento de descuento hoy.", "discount", "30%", "30"),
    ("es", "Entra en heatmug punto es y pide el tuyo.", "url", "heatmug.es", "heatmug"),
    ("pt", "Acesse heatmug ponto com ponto br agora.", "url", "heatmug.com.br", "heatmug"),
    ("fr", "Le tout pour seulement 19,99 euros.", "price", "19.99 EUR", "19,99"),
    ("de", "Über 2 Millionen Kunden vertrauen uns.", "user_count", 2_000_000, "2"),
    ("pt", "Aproveite o frete grátis em todo o site.", "free_shipping", None, "frete"),
]


@pytest.mark.parametrize(("language", "sentence", "kind", "value", "first"), SPOKEN)
def test_spoken_facts_are_timed_by_their_words(
    language: str, sentence: str, kind: str, value: Any, first: str
) -> None:
    words = said(10.0, sentence)
    offer = offer_facts(transcript(words, language=language), [])
    fact = _one(offer, kind)
    if value is not None:
        assert fact["value"] == value
    expected_time = next(t for t, w in words if w == first)
    assert (fact["times_s"], fact["source"], fact["quote"]) == ([expected_time], "spoken", sentence)


def test_a_fact_said_and_shown_is_one_fact_from_both() -> None:
    spoken = transcript(
        said(1.0, "Meet the HeatMug smart mug."), said(6.0, "Order now and save 50%.")
    )
    shown = [span(0.0, 3.0, "HeatMug smart mug"), span(5.0, 9.0, "50% OFF · heatmug.com")]
    offer = offer_facts(spoken, shown)
    discount = _one(offer, "discount")
    assert (discount["value"], discount["source"], discount["times_s"]) == (
        "50%",
        "both",
        [5.0, 6.9],
    )
    assert {o["text"] for o in discount["occurrences"]} == {"save 50%", "50% OFF"}
    brand, product = offer["brand"], offer["product"]
    assert (brand["value"], brand["source"]) == ("HeatMug", "both")
    assert brand["times_s"] == [0.0, 1.6]
    assert (product["text"], product["source"]) == ("HeatMug smart mug", "both")
    sold = offer["sold"][0]
    assert (sold["value"], sold["in_product"]) == ("mug", True)


@pytest.mark.parametrize(
    ("lines", "brand"),
    [
        # a name repeated on screen and in speech
        (["Conoce SolTaza", "SolTaza mantiene tu café caliente"], "SolTaza"),
        # a name opening its sentence, before the product it names
        (["Brightbrew cold brew is smooth", "Try Brightbrew today"], "Brightbrew"),
        # a name the web address carries, said once
        (["Découvrez Lumio aujourd'hui", "lumio.fr"], "Lumio"),
        # only the address names it
        (["Dein Kaffee bleibt heiß", "kaffeeheld.de"], "kaffeeheld"),
        # the handle carries it
        (["Siga a Brisa no Instagram", "@brisa"], "Brisa"),
    ],
)
def test_brand_from_repeated_names_the_address_or_the_handle(lines: list[str], brand: str) -> None:
    offer = offer_facts(SILENT, [span(3.0 * i, 3.0 * i + 3, text) for i, text in enumerate(lines)])
    assert offer["brand"] is not None and offer["brand"]["value"] == brand
    assert offer["brand"]["quote"] in lines


def test_no_offer_no_facts() -> None:
    """Text that names nothing, sells nothing at a price and cites no proof yields nothing: a
    sentence-opening capital is not a brand, a share of people is not a discount."""
    spoken = transcript(said(0.5, "Mornings are hard. Coffee helps, say 95% of parents."))
    shown = [span(0.0, 4.0, "Mornings are hard"), span(4.0, 8.0, "You deserve better")]
    offer = offer_facts(spoken, shown)
    assert offer["brand"] is None and offer["product"] is None
    assert (offer["offers"], offer["proof"], offer["links"]) == ([], [], [])


def test_untrusted_speech_is_not_read() -> None:
    withheld = Transcript.empty("test", "speech in a language the model does not know")
    assert _all(offer_facts(withheld, [])) == []
    doubtful = transcript(said(1.0, "Save 50% with code HOT20"))
    doubtful.segments[0]["low_confidence"] = True
    assert offer_facts(doubtful, [])["offers"] == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("29.99", 29.99),
        ("29,99", 29.99),
        ("20,000", 20_000),
        ("20.000", 20_000),
        ("20 000", 20_000),
        ("1.299,00", 1_299),
        ("1,299.00", 1_299),
        ("1.000.000", 1_000_000),
        ("7", 7),
    ],
)
def test_numbers_with_either_decimal_mark(text: str, number: float) -> None:
    assert parse_number(text) == pytest.approx(number)


def test_german_nouns_are_not_brands() -> None:
    """German capitalises every noun: a product word said and shown twice is not a brand."""
    spoken = transcript(said(0.5, "Mit diesem Becher bleibt dein Kaffee heiß."))
    shown = [span(0.0, 4.0, "Dein Kaffee bleibt heiß"), span(4.0, 8.0, "Heißer Kaffee, überall")]
    offer = offer_facts(spoken, shown)
    assert offer["brand"] is None
    assert [f["value"] for f in offer["sold"]] == ["kaffee", "becher"]


def test_a_brand_heard_as_two_words_is_the_brand_on_screen() -> None:
    """ASR writes a coined name apart and in lower case; the screen spells it."""
    spoken = transcript(said(3.5, "bright brew cold brew is smooth and ready in seconds"))
    shown = [span(3.25, 7.15, "Brightbrew cold brew is smooth and ready in seconds.")]
    offer = offer_facts(spoken, shown)
    brand, product = offer["brand"], offer["product"]
    assert (brand["value"], brand["source"], brand["times_s"]) == (
        "Brightbrew",
        "both",
        [3.25, 3.5],
    )
    assert {o["text"] for o in brand["occurrences"]} == {"Brightbrew", "bright brew"}
    assert (product["value"], product["source"]) == ("brightbrew cold brew", "both")
    assert {o["text"] for o in product["occurrences"]} == {
        "Brightbrew cold brew",
        "bright brew cold brew",
    }


def test_the_rendered_ad_with_voice_over(ad: Any) -> None:
    """The storyboard ad (captions and piper voice-over of the same lines over a music bed): the
    brand and product are found said and shown at the scene that says them once the transcript
    agrees with the screen (as the pipeline reads it); free shipping is said with the call to
    action and shown again on the end card, above its button."""
    metrics = copy.deepcopy(ad.metrics)
    reconcile_metrics(metrics, ad.transcript.to_dict())
    offer = metrics["offer"]
    scenes = {scene.text: scene for scene in ad.ad.scenes}
    meet = next(s for text, s in scenes.items() if "HeatMug" in text)
    order = next(s for text, s in scenes.items() if "free shipping" in text)
    brand, product = offer["brand"], offer["product"]
    assert (brand["value"], brand["source"]) == ("HeatMug", "both")
    assert brand["times_s"][0] == pytest.approx(meet.start, abs=0.3)
    assert (product["value"], product["source"]) == ("heatmug smart mug", "both")
    shipping = _one(offer, "free_shipping")
    assert shipping["source"] == "both"
    assert order.start <= shipping["times_s"][0] <= order.end
    assert all(o["text"].lower() == "free shipping" for o in shipping["occurrences"])
    assert offer["sold"][0]["value"] == "mug"
    cta = metrics["call_to_action"]
    # said and shown at once: the closing caption, held to the last frame, is the end card
    assert (cta["kind"], cta["to_last_frame"], cta["on_screen"]) == ("end_card", True, True)
    kinds = {p["kind"]: p for p in cta["placements"]}
    assert set(kinds) == {"spoken", "end_card"}
    assert kinds["end_card"]["to_last_frame"] is True


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        ("HEATMUG.COM", ["heatmug.com"]),
        ("Shop at HeatMug.com", ["heatmug.com"]),
        ("Sign up.It's free", []),  # two sentences run together, not an address
        ("Mehr auf www.Heatmug.De", ["heatmug.de"]),
        ("Email hello@heatmug.com", []),  # an e-mail address is not a web address
    ],
)
def test_web_addresses_as_written(text: str, domains: list[str]) -> None:
    links = offer_facts(SILENT, [span(0.0, 2.0, text)])["links"]
    assert [f["value"] for f in links if f["type"] == "url"] == domains


def test_a_zero_percent_is_no_discount() -> None:
    assert offer_facts(SILENT, [span(0.0, 2.0, "0% OFF heatmug.com")])["offers"] == []
