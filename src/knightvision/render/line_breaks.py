"""Where a line of caption text may break.

Between words, where the text spaces them. Japanese, Chinese and Thai do not space their words:
there a line breaks between phrases as BudouX finds them (Google's phrase segmenter; its models
ship in the package, nothing is downloaded), so a word is never cut in two ("ビー / ルを" becomes
"ビールを" on one line). Korean spaces its words and may also break between syllables, as it did
before. Over all of them, the kinsoku rules: no line starts with closing punctuation, a small kana
or the prolonged sound mark, and none ends with an opening bracket.

A phrase wider than a whole line still has to break inside: :func:`allowed_before` then says
which of its characters may start a line.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from budoux import Parser

# No line starts with these (closing punctuation, small kana, prolonged sound mark) ...
NO_LINE_START = frozenset(
    "、。，．,.!?！？：；:;)）」』】〉》〕ー…ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々"
)
# ... and none ends with these (opening brackets).
NO_LINE_END = frozenset("(（「『【〈《〔")

_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HAN = ((0x3005, 0x3007), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
_THAI = ((0x0E00, 0x0E7F),)
# CJK punctuation and fullwidth forms: part of a Japanese or Chinese phrase.
_CJK_MARKS = ((0x3000, 0x303F), (0xFF00, 0xFFEF))


def _within(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def _is_cjk(ch: str) -> bool:
    """Han, kana, Hangul, CJK punctuation and fullwidth forms: text set without spaces."""
    code = ord(ch)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
    )


def _phrased(ch: str) -> bool:
    """A character of a script whose lines break between phrases (Japanese, Chinese, Thai)."""
    return _within(ch, _KANA) or _within(ch, _HAN) or _within(ch, _THAI) or _within(ch, _CJK_MARKS)


@cache
def _parser(language: str) -> Parser:
    import budoux

    loaders = {
        "ja": budoux.load_default_japanese_parser,
        "zh-hans": budoux.load_default_simplified_chinese_parser,
        "zh-hant": budoux.load_default_traditional_chinese_parser,
        "th": budoux.load_default_thai_parser,
    }
    return loaders[language]()


def _cjk_language(text: str) -> str:
    """Japanese when the text has kana; else Chinese, simplified when every Han character is in
    GB 2312 (the simplified set), traditional otherwise."""
    if any(_within(ch, _KANA) for ch in text):
        return "ja"
    han = "".join(ch for ch in text if _within(ch, _HAN))
    try:
        han.encode("gb2312")
    except UnicodeEncodeError:
        return "zh-hant"
    return "zh-hans"


def _phrase_starts(run: str, language: str) -> set[int]:
    """Offsets in run (no spaces in it) where a BudouX phrase starts, the first excepted; only
    where a phrased script meets it, so a Latin word inside ("HeatMugは") stays whole."""
    starts: set[int] = set()
    offset = 0
    for phrase in _parser(language).parse(run)[:-1]:
        offset += len(phrase)
        if _phrased(run[offset - 1]) or _phrased(run[offset]):
            starts.add(offset)
    return starts


def allowed_before(previous: str, ch: str) -> bool:
    """Whether a line may start with ch after previous, as far as kinsoku goes."""
    return ch not in NO_LINE_START and previous not in NO_LINE_END


@lru_cache(maxsize=1024)
def break_offsets(text: str) -> frozenset[int]:
    """Offsets in text where a new line may start (never 0): after spaces, between phrases in
    Japanese, Chinese and Thai, between Hangul syllables; kinsoku holds at each (a line ends
    with what is before the spaces it breaks at)."""
    offsets: set[int] = set()
    language = None
    start = 0
    while start < len(text):
        if text[start].isspace():
            start += 1
            if start < len(text) and not text[start].isspace():
                offsets.add(start)
            continue
        end = start
        while end < len(text) and not text[end].isspace():
            end += 1
        run = text[start:end]
        if any(_phrased(ch) for ch in run):
            language = language or _cjk_language(text)
            thai = not any(_phrased(ch) and not _within(ch, _THAI) for ch in run)
            offsets |= {start + i for i in _phrase_starts(run, "th" if thai else language)}
        else:  # Hangul: between syllables
            offsets |= {
                start + i for i in range(1, len(run)) if _is_cjk(run[i]) or _is_cjk(run[i - 1])
            }
        start = end
    return frozenset(
        i for i in offsets if 0 < i < len(text) and allowed_before(text[:i].rstrip()[-1:], text[i])
    )
