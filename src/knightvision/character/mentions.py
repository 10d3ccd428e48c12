"""``@<name>`` and ``@<id>`` in a generate-video prompt (D16).

A mention is ``@`` followed by one of the account's finalized character names (case-insensitive,
the longest that matches, names may contain spaces) or by a character id, and then a word
boundary. An ``@`` glued to a word before it is an email address or a handle, and any ``@word``
that names no finalized character stays plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_DIGITS = re.compile(r"[0-9]+")
_GLUE = "_.-+%@"  # characters that make an "@" part of an address or handle


@dataclass(frozen=True)
class Mention:
    start: int  # index of the "@"
    end: int  # one past the mention's last character
    character_id: int


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _ends_at_boundary(text: str, end: int) -> bool:
    return end >= len(text) or not _word_char(text[end])


def find_mentions(prompt: str, characters: Sequence[tuple[int, str]]) -> list[Mention]:
    """Mentions of ``characters`` (``(id, name)`` pairs) in ``prompt``, left to right.

    Of two characters with the same name, the newer (higher id) wins.
    """
    names = sorted(
        ((name.casefold(), len(name), character_id) for character_id, name in characters if name),
        key=lambda item: (-item[1], -item[2]),
    )
    ids = {character_id for character_id, _ in characters}
    mentions: list[Mention] = []
    position = 0
    while (at := prompt.find("@", position)) != -1:
        position = at + 1
        if at > 0 and (_word_char(prompt[at - 1]) or prompt[at - 1] in _GLUE):
            continue
        found: tuple[int, int] | None = None
        for folded, length, character_id in names:
            if prompt[at + 1 : at + 1 + length].casefold() == folded and _ends_at_boundary(
                prompt, at + 1 + length
            ):
                found = (at + 1 + length, character_id)
                break
        if found is None:
            digits = _DIGITS.match(prompt, at + 1)
            if digits and _ends_at_boundary(prompt, digits.end()) and int(digits.group()) in ids:
                found = (digits.end(), int(digits.group()))
        if found is not None:
            mentions.append(Mention(at, found[0], found[1]))
            position = found[0]
    return mentions


def rewrite(prompt: str, mentions: Sequence[Mention], label: Callable[[int], str]) -> str:
    """The prompt with each mention replaced by ``label(character_id)``."""
    parts: list[str] = []
    last = 0
    for mention in mentions:
        parts.append(prompt[last : mention.start])
        parts.append(label(mention.character_id))
        last = mention.end
    parts.append(prompt[last:])
    return "".join(parts)
