"""@<name> and @<id> in prompts (D16): longest case-insensitive name, ids, and plain-text @words."""

from __future__ import annotations

import pytest

from knightvision.character.mentions import Mention, find_mentions, rewrite

CHARACTERS = [(1, "Ada"), (2, "Ada Lovelace"), (3, "Sales Expert"), (42, "Bob"), (7, "Dr. Who!")]


def ids(prompt: str) -> list[int]:
    return [m.character_id for m in find_mentions(prompt, CHARACTERS)]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("@Ada waves.", [1]),
        ("@ada lovelace explains the engine", [2]),  # the longest name wins, case-insensitively
        ("@ADA LOVELACE's notes", [2]),
        ("@Ada Lovelaces are many", [1]),  # a longer name must end at a word boundary
        ("@Sales Expert and @bob talk", [3, 42]),
        ("Meet @42 today", [42]),
        ("@42x is not an id", []),
        ("@99 is nobody", []),  # an unknown id stays plain text
        ("mail ada@example.com or @someone", []),  # addresses and other handles are plain text
        ("x_@Ada y.@Ada", []),
        ('(@Ada) and "@Bob"', [1, 42]),
        ("@Dr. Who! arrives", [7]),
        ("@", []),
        ("@@Ada", []),
    ],
)
def test_mentions(prompt: str, expected: list[int]) -> None:
    assert ids(prompt) == expected


def test_same_name_resolves_to_the_newest() -> None:
    assert [m.character_id for m in find_mentions("@Twin", [(5, "Twin"), (9, "twin")])] == [9]


def test_rewrite_replaces_each_mention() -> None:
    prompt = "@ada lovelace meets @42."
    mentions = find_mentions(prompt, CHARACTERS)
    assert mentions == [Mention(0, 13, 2), Mention(20, 23, 42)]
    labels = {2: "@ada_1234", 42: "Bob"}
    assert rewrite(prompt, mentions, labels.__getitem__) == "@ada_1234 meets Bob."
    assert rewrite("no mentions", [], str) == "no mentions"
