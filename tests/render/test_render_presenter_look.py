"""The presenter's look: read from the prompt's words, the same for the same prompt."""

from __future__ import annotations

from knightvision.render import presenter_look
from knightvision.render.presenter.vocabulary import COLOURS


def test_look_follows_the_prompt_words() -> None:
    suit = presenter_look("A news anchor in a navy suit with a red tie, in a modern office")
    assert (suit.outfit, suit.clothing, suit.accent, suit.backdrop) == (
        "suit",
        COLOURS["navy"],
        COLOURS["red"],
        "office",
    )
    hoodie = presenter_look("A blonde woman in a light green hoodie on the beach")
    assert (hoodie.outfit, hoodie.backdrop, hoodie.hair) == ("hoodie", "beach", (226, 190, 112))
    assert hoodie.clothing[1] > hoodie.clothing[0] and hoodie.clothing[1] > hoodie.clothing[2]
    chef = presenter_look("Cheerful chef with curly grey hair, glasses and a beard in a kitchen")
    assert (chef.outfit, chef.hair_style, chef.hair, chef.glasses, chef.beard, chef.backdrop) == (
        "apron",
        "curly",
        (176, 176, 178),
        True,
        True,
        "kitchen",
    )
    assert presenter_look("A bald man dressed in orange").hair_style == "bald"
    assert presenter_look("A bald man dressed in orange").clothing == COLOURS["orange"]
    assert presenter_look("A doctor").outfit == "labcoat" and presenter_look("A doctor").stethoscope


def test_look_is_deterministic_and_words_about_people_are_not_colours() -> None:
    prompt = "A confident business person in a modern office"
    assert presenter_look(prompt) == presenter_look(prompt)
    assert (
        presenter_look("A black cat owner").clothing != COLOURS["black"]
    )  # "black" colours nothing here
    looks = {presenter_look(f"Presenter number {n}") for n in range(12)}
    assert (
        len({(look.skin, look.hair, look.clothing) for look in looks}) >= 10
    )  # unnamed traits vary by prompt
