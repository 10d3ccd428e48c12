"""Roles of a short-form ad's scenes, read from the prompt: hook first, end card last."""

from __future__ import annotations

import pytest

from knightvision.render.roles import (
    Role,
    brand_name,
    call_to_action_label,
    call_to_action_url,
    offer_badge,
    proof_figure,
)
from knightvision.render.storyboard import plan_scenes

AD = (
    "Tired of cold coffee? Meet Brewly, the mug that keeps it hot for 6 hours. "
    "Rated 4.8 stars by 12,000 customers. Get 30% off this week only. Shop now at brewly.com"
)


def roles(prompt: str, duration: int = 12) -> list[tuple[Role, str]]:
    return [(s.role, s.text) for s in plan_scenes(prompt, duration, 30)]


def test_an_ad_gets_hook_product_proof_offer_and_end_card():
    assert roles(AD) == [
        (Role.HOOK, "Tired of cold coffee?"),
        (Role.PRODUCT, "Meet Brewly, the mug that keeps it hot for 6 hours."),
        (Role.PROOF, "Rated 4.8 stars by 12,000 customers."),
        (Role.OFFER, "Get 30% off this week only."),
        (Role.END_CARD, "Shop now at brewly.com"),
    ]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "Tu piel merece más. ¿Cansada de cremas que no funcionan? Conoce Lumi. "
            "Más de 10.000 clientas felices. Envío gratis hoy. Compra ya en lumi.es",
            [Role.HOOK, Role.PROBLEM, Role.PRODUCT, Role.PROOF, Role.OFFER, Role.END_CARD],
        ),
        (
            "Sua manhã mudou. Cansado de café frio? Conheça a Brewly. 20% de desconto. "
            "Compre agora!",
            [Role.HOOK, Role.PROBLEM, Role.PRODUCT, Role.OFFER, Role.END_CARD],
        ),
        (
            "Le café, enfin chaud. Marre du café froid ? Découvrez Brewly. "
            "Livraison gratuite. Commandez aujourd'hui.",
            [Role.HOOK, Role.PROBLEM, Role.PRODUCT, Role.OFFER, Role.END_CARD],
        ),
        (
            "Kaffee, endlich heiß. Schon wieder kalter Kaffee? Entdecke Brewly. "
            "Über 5.000 Kunden. Jetzt bestellen!",
            [Role.HOOK, Role.PROBLEM, Role.PRODUCT, Role.PROOF, Role.END_CARD],
        ),
    ],
)
def test_roles_in_five_languages(prompt, expected):
    assert [role for role, _ in roles(prompt)] == expected


def test_a_short_prompt_still_gets_a_hook_and_an_end_card_in_its_language():
    assert roles("Fresh coffee, delivered.", 5) == [
        (Role.HOOK, "Fresh coffee, delivered."),
        (Role.END_CARD, "Learn more"),
    ]
    assert roles("Café fresco para toda la familia.", 5)[-1] == (Role.END_CARD, "Descubre más")


def test_a_one_second_video_is_all_hook():
    assert [role for role, _ in roles(AD, 1)] == [Role.HOOK]


def test_the_call_to_action_is_taken_out_of_the_body_not_said_twice():
    texts = [text for _, text in roles(AD)]
    assert texts.count("Shop now at brewly.com") == 1


@pytest.mark.parametrize(
    ("text", "label", "url"),
    [
        ("Shop now at brewly.com", "Shop now", "brewly.com"),
        ("Grab yours today and run further!", "Grab yours today", None),
        ("Order today: https://www.aurora.shop/run", "Order today", "www.aurora.shop/run"),
        ("Compra ya en lumi.es", "Compra ya", "lumi.es"),
        ("Jetzt bestellen!", "Jetzt bestellen", None),
    ],
)
def test_button_label_and_url_come_from_the_call_to_action(text, label, url):
    assert call_to_action_label(text, "en") == label
    assert call_to_action_url(text) == url


@pytest.mark.parametrize(
    ("text", "shown", "stars"),
    [
        ("Rated 4.8 stars by 12,000 customers.", "4.8", True),
        ("Más de 10.000 clientes felices.", "10.000", False),
        ("Over 50k happy customers", "50k", False),
        ("Trusted by 2 000+ people", "2 000+", False),
        ("Note 4,6 étoiles", "4,6", True),
    ],
)
def test_proof_numbers_are_the_prompts_own(text, shown, stars):
    figure = proof_figure(text)
    assert figure is not None
    assert figure.format(figure.value) == shown  # written back exactly as the prompt wrote it
    assert figure.stars is stars
    assert figure.format(0) != shown  # and it counts up from zero


@pytest.mark.parametrize("text", ["Comes in 3 colours.", "Now only $29 for 1000 customers?"])
def test_no_proof_number_is_invented(text):
    figure = proof_figure(text)
    assert figure is None or figure.format(figure.value) in text


def test_offer_badge_says_the_prompts_discount_or_price():
    assert offer_badge("Get 30 % off this week") == "30%"
    assert offer_badge("Now only $29.99") == "$29.99"
    assert offer_badge("Ahora 19,90 €") == "19,90€"
    assert offer_badge("Free shipping") is None


def test_the_default_end_card_of_a_wordless_prompt_is_shown_not_said():
    *_, card = plan_scenes("🚀 🔥 ...", 3, 30)
    assert (card.role, card.text, card.speakable) == (Role.END_CARD, "Learn more", False)
    *_, card = plan_scenes("Fresh bread.", 3, 30)
    assert (card.text, card.speakable) == ("Learn more", True)


@pytest.mark.parametrize(
    ("prompt", "card"),
    [
        ("冷たいコーヒーにさよなら。このマグは一日中温かい。", "詳しくはこちら"),
        ("Café fresco para toda la familia.", "Descubre más"),
        ("Café frais pour toute la famille, avec amour.", "En savoir plus"),
        ("Frischer Kaffee für die ganze Familie und mehr.", "Mehr erfahren"),
        ("Café fresco para você e sua família.", "Saiba mais"),
    ],
)
def test_the_default_end_card_speaks_the_prompts_language(prompt, card):
    *_, end = plan_scenes(prompt, 6, 30)
    assert (end.role, end.text) == (Role.END_CARD, card)
    # Words in a script the English voice cannot read are shown, never said.
    assert end.speakable == (end.language in ("es", "pt", "fr", "de"))


def test_a_japanese_call_to_action_is_the_button():
    *_, end = plan_scenes("冷たいコーヒーにさよなら。このマグは一日中温かい。今すぐ注文。", 6, 30)
    assert end.role is Role.END_CARD and end.text == "今すぐ注文。" and not end.speakable
    assert call_to_action_label(end.text, end.language) == "今すぐ注文"


def test_the_brand_is_spelt_as_the_prompt_spells_it():
    assert brand_name("Meet the HeatMug. Shop now at heatmug.com") == "HeatMug"
    assert brand_name("Shop now at https://www.brewly.com/deals") == "Brewly"
    assert brand_name("A person walking through a futuristic city") is None
