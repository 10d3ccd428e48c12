"""Lines of text in any script: clusters set in the bundled faces, bidi order, wrapping, drawing.

A line is cut into clusters (a character with its marks and joiners, or a whole emoji sequence);
each cluster takes the first face of :data:`fonts.FACES` that maps it, a colour emoji picture, or
a visible box when nothing can draw it (reported by :func:`undrawable_characters`, never
dropped). Clusters of one face and direction form runs that RAQM shapes (Arabic joining, marks);
runs are put in visual order by the Unicode bidi algorithm for a paragraph without explicit
embeddings (:func:`_levels`).
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from .fonts import FACES, PRIMARY, Face, coverage, emoji_image, face_font, match_emoji
from .line_breaks import allowed_before, break_offsets

EMOJI_SCALE = 1.08  # an emoji's side, in em
EMOJI_GAP = 0.06  # space beside an emoji, in em
BOX_WIDTH = 0.62  # the box drawn for a character no face has, in em
BASELINE_BELOW_CENTRE = 0.36  # em: puts cap height and CJK ideographs around the line's centre


@dataclass(frozen=True)
class Cluster:
    text: str
    face: Face | None  # None: an emoji picture, or nothing can draw it
    emoji: Path | None = None

    @property
    def undrawable(self) -> bool:
        return self.face is None and self.emoji is None


@dataclass(frozen=True)
class Run:
    """Clusters drawn together: one face (or emoji, or boxes) and one direction."""

    clusters: tuple[Cluster, ...]
    level: int  # bidi embedding level: odd is right to left

    @property
    def rtl(self) -> bool:
        return self.level % 2 == 1

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.clusters)

    @property
    def face(self) -> Face | None:
        return self.clusters[0].face


@dataclass(frozen=True)
class LineLayout:
    runs: tuple[Run, ...]  # in visual order, left to right
    widths: tuple[float, ...]
    size: int

    @property
    def width(self) -> float:
        return sum(self.widths)


def _is_attached(ch: str) -> bool:
    """Marks, joiners, variation selectors and other invisible format characters (Cf) stay with
    the character before them: they are never drawn on their own, nor reported."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf") or "\ufe00" <= ch <= "\ufe0f"


def _face_for(text: str, previous: Face | None) -> Face | None:
    codes = [ord(ch) for ch in text if not _is_attached(ch)]
    if not codes:  # only invisible characters, at the start of the text
        return previous or PRIMARY
    # Spaces and punctuation keep the face around them, so runs stay whole.
    if (
        previous is not None
        and not text[0].isalnum()
        and all(c in coverage(previous) for c in codes)
    ):
        return previous
    for face in FACES:
        if all(c in coverage(face) for c in codes):
            return face
    return None


@lru_cache(maxsize=4096)
def clusters(text: str) -> tuple[Cluster, ...]:
    """The text's clusters, in logical order, each with what draws it."""
    out: list[Cluster] = []
    previous: Face | None = None
    i = 0
    while i < len(text):
        emoji = match_emoji(text, i)
        if emoji is not None:
            used, picture = emoji
            out.append(Cluster(text[i : i + used], None, picture))
            i += used
            continue
        end = i + 1
        while end < len(text) and _is_attached(text[end]):
            end += 1
        piece = text[i:end]
        face = PRIMARY if piece.isspace() and previous is None else _face_for(piece, previous)
        out.append(Cluster(piece, face))
        previous = face if face is not None else previous
        i = end
    return tuple(out)


def undrawable_characters(text: str) -> list[str]:
    """Characters no bundled face can draw, once each, in order of appearance."""
    seen: dict[str, None] = {}
    for cluster in clusters(text):
        if cluster.undrawable:
            for ch in cluster.text:
                if not _is_attached(ch):
                    seen.setdefault(ch)
    return list(seen)


def _bidi_class(cluster: Cluster) -> str:
    if cluster.emoji is not None or cluster.face is None:
        return "ON"  # pictures and boxes are neutral
    return unicodedata.bidirectional(cluster.text[0])


def _levels(items: tuple[Cluster, ...]) -> list[int]:
    """Each cluster's embedding level, by UAX #9 for one paragraph without explicit embeddings:
    rules P2-P3 (base direction from the first strong character), W2 and W7 (numbers after
    Arabic letters are Arabic numbers, after Latin ones Latin), N1-N2 (neutrals between two
    runs of one direction take it, else the base's), I1-I2 (levels)."""
    classes = [_bidi_class(c) for c in items]
    base = next((1 if k in ("R", "AL") else 0 for k in classes if k in ("L", "R", "AL")), 0)
    last_strong = "R" if base else "L"
    types: list[str] = []
    for kind in classes:
        if kind in ("L", "R", "AL"):
            last_strong = kind
            types.append("L" if kind == "L" else "R")
        elif kind == "EN":
            types.append({"AL": "AN", "L": "L"}.get(last_strong, "EN"))
        elif kind == "AN":
            types.append("AN")
        else:
            types.append("N")
    edge = "R" if base else "L"
    directional = ["N" if t == "N" else ("L" if t == "L" else "R") for t in types]
    for i, kind in enumerate(types):
        if kind != "N":
            continue
        before = next((d for d in reversed(directional[:i]) if d != "N"), edge)
        after = next((d for d in directional[i + 1 :] if d != "N"), edge)
        types[i] = before if before == after else edge
    if base == 0:
        return [{"L": 0, "R": 1}.get(t, 2) for t in types]
    return [1 if t == "R" else 2 for t in types]


def _visual_order(runs: list[Run]) -> list[Run]:
    """Reverse runs by level, highest level first (UAX #9, rule L2)."""
    levels = [run.level for run in runs]
    order = list(range(len(runs)))
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return [runs[i] for i in order]


def _run_key(cluster: Cluster) -> tuple[str, str]:
    if cluster.emoji is not None:
        return ("emoji", "")
    if cluster.face is None:
        return ("box", "")
    return ("face", cluster.face.name)


def _run_width(run: Run, size: int) -> float:
    if run.face is not None:
        font = face_font(run.face, size)
        return float(font.getlength(run.text, direction="rtl" if run.rtl else "ltr"))
    per = EMOJI_SCALE + 2 * EMOJI_GAP if run.clusters[0].emoji else BOX_WIDTH + 2 * EMOJI_GAP
    return len(run.clusters) * per * size


@lru_cache(maxsize=4096)
def layout_line(text: str, size: int) -> LineLayout:
    """One line, split into runs and put in visual order; cached (captions repeat)."""
    items = clusters(text)
    levels = _levels(items)
    runs: list[Run] = []
    current: list[Cluster] = []
    for i, cluster in enumerate(items):
        if current and (_run_key(cluster) != _run_key(current[0]) or levels[i] != levels[i - 1]):
            runs.append(Run(tuple(current), levels[i - 1]))
            current = []
        current.append(cluster)
    if current:
        runs.append(Run(tuple(current), levels[-1]))
    ordered = tuple(_visual_order(runs))
    return LineLayout(ordered, tuple(_run_width(run, size) for run in ordered), size)


def line_width(text: str, size: int) -> float:
    return layout_line(text, size).width


def draw_line(
    image: Image.Image,
    layout: LineLayout,
    left: float,
    centre_y: float,
    *,
    fill: tuple[int, int, int, int],
    stroke_width: int,
    stroke_fill: tuple[int, int, int, int],
) -> None:
    """Draw a laid-out line with its left edge at `left`, vertically centred on `centre_y`."""
    draw = ImageDraw.Draw(image)
    size = layout.size
    baseline = centre_y + BASELINE_BELOW_CENTRE * size
    x = left
    for run, width in zip(layout.runs, layout.widths, strict=True):
        if run.face is not None:
            draw.text(
                (x, baseline),
                run.text,
                font=face_font(run.face, size),
                fill=fill,
                anchor="ls",
                direction="rtl" if run.rtl else "ltr",
                stroke_width=stroke_width,
                stroke_fill=stroke_fill,
            )
        else:
            _draw_pictures(image, draw, run, x, centre_y, size, fill, stroke_width)
        x += width


def _draw_pictures(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    run: Run,
    x: float,
    centre_y: float,
    size: int,
    fill: tuple[int, int, int, int],
    stroke_width: int,
) -> None:
    """Emoji pictures, or a hollow box per character nothing can draw."""
    gap = EMOJI_GAP * size
    cells = reversed(run.clusters) if run.rtl else iter(run.clusters)
    for cluster in cells:
        if cluster.emoji is not None:
            side = round(EMOJI_SCALE * size)
            picture = emoji_image(cluster.emoji, side)
            image.alpha_composite(picture, (round(x + gap), round(centre_y - side / 2)))
            x += side + 2 * gap
        else:
            box_w, box_h = BOX_WIDTH * size, 0.78 * size
            top = centre_y - box_h / 2
            draw.rectangle(
                (x + gap, top, x + gap + box_w, top + box_h),
                outline=fill,
                width=max(2, math.ceil(stroke_width * 0.8)),
            )
            x += box_w + 2 * gap


def _segments(text: str) -> list[str]:
    """Pieces a line may break between (:func:`.line_breaks.break_offsets`): words with their
    trailing space, phrases of scripts without spaces, Hangul syllables."""
    breaks = break_offsets(text)
    pieces: list[str] = []
    current = ""
    offset = 0
    for cluster in clusters(text):
        if current and offset in breaks:
            pieces.append(current)
            current = ""
        current += cluster.text
        offset += len(cluster.text)
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, size: int, max_width: float) -> list[str]:
    """Greedy wrap by drawn width: between words, or between CJK characters; over-wide words
    are broken between clusters."""
    lines: list[str] = []
    current = ""
    for segment in _segments(" ".join(text.split())):
        pieces = [segment]
        if line_width(segment.strip(), size) > max_width:
            pieces = _break_segment(segment, size, max_width)
        for piece in pieces:
            candidate = current + piece
            if current.strip() and line_width(candidate.strip(), size) > max_width:
                lines.append(current.strip())
                current = piece.lstrip()
            else:
                current = candidate
    if current.strip():
        lines.append(current.strip())
    return lines


def segments_fit(text: str, size: int, max_width: float) -> bool:
    """Whether every word or phrase of text fits a line of max_width on its own, so wrapping
    never has to cut one."""
    return all(
        line_width(segment.strip(), size) <= max_width
        for segment in _segments(" ".join(text.split()))
    )


def _break_segment(segment: str, size: int, max_width: float) -> list[str]:
    """A segment wider than a line, in pieces that fit, cut between clusters where kinsoku
    allows (anywhere only when it allows nowhere)."""
    pieces: list[str] = []
    current: list[str] = []
    for cluster in clusters(segment):
        if current and line_width("".join([*current, cluster.text]).strip(), size) > max_width:
            following = [*current, cluster.text]
            cut = next(
                (
                    i
                    for i in range(len(current), 0, -1)
                    if allowed_before(following[i - 1][-1], following[i][0])
                ),
                len(current),
            )
            pieces.append("".join(current[:cut]))
            current = current[cut:]
        current.append(cluster.text)
    if current:
        pieces.append("".join(current))
    return pieces


def truncate_line(text: str, size: int, max_width: float, ellipsis: str) -> str:
    """The line shortened by whole clusters until it fits with `ellipsis` after it."""
    kept = list(clusters(text))
    while kept and line_width("".join(c.text for c in kept).rstrip() + ellipsis, size) > max_width:
        kept.pop()
    return "".join(c.text for c in kept).rstrip() + ellipsis
