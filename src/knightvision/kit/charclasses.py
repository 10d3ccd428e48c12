"""Regular-expression character classes for the JSON Schemas of our request bodies, each the exact
set a Python check uses, so a schema pattern refuses what the parser refuses.

Written out (tests compare them with ``unicodedata`` over every code point): computing them at
import would cost a second. Astral characters are written literally, which both Python's ``re``
and ECMA-262 regular expressions (with the ``u`` flag) read.
"""

from __future__ import annotations

# str.isspace(), and so what str.strip() removes.
WHITESPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)

# Whitespace plus the general categories Cc, Cf, Zs, Zl and Zp: characters that cannot be seen
# in a URL, which parsers disagree on.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0020),
    (0x007F, 0x00A0),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x2064),
    (0x2066, 0x206F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


# Control characters a text field refuses: C0 but tab, line feed and carriage return, DEL and C1
# (category Cc but those three). Lone surrogates never get this far: the body parser refuses them
# as invalid JSON.
CONTROL_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08),
    (0x0B, 0x0C),
    (0x0E, 0x1F),
    (0x7F, 0x9F),
)


def control_character(text: str) -> str | None:
    """The first character of ``text`` a text field refuses, or None."""
    for char in text:
        code = ord(char)
        if any(first <= code <= last for first, last in CONTROL_RANGES):
            return char
    return None


def class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of ``[...]`` for these code point ranges (none of them is ``\\``, ``]``, ``^``
    or ``-``, so no character needs escaping)."""
    return "".join(
        chr(first) if first == last else f"{chr(first)}-{chr(last)}" for first, last in ranges
    )


WHITESPACE = class_body(WHITESPACE_RANGES)
HIDDEN = class_body(HIDDEN_RANGES)
NOT_BLANK = f"[^{WHITESPACE}]"  # a pattern matching any text that str.strip() leaves non-empty
# a pattern matching text with a control character a text field refuses
CONTROL = "[" + "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in CONTROL_RANGES) + "]"
