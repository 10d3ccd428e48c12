"""The JSON Schemas of the request bodies, built from the tables and limits the parsers use.

Handlers parse their own bodies (to answer with the contract's exact errors, D4a, D6); these
schemas state the same rules in the OpenAPI document, and a property-based test holds schema and
parser to accepting and refusing the same bodies. Unknown fields are allowed (D4a), ``null`` means
the default, and rules that depend on another field are written out per value (``if``/``then``
per model, ``anyOf`` per shape).

Two D4a rules JSON Schema has no word for: ``"integer"`` means a JSON integer literal (``10.0``
is not a duration, though JSON Schema counts it as an integer), and ``x-maxDistinctItems`` bounds
the number of distinct values in an array (a repeated character id counts once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from knightvision.api.bodies import JSON_INTEGER_LIMIT, MAX_LIMIT, MIN_LIMIT
from knightvision.character.upstream import (
    MAX_CHARACTER_SECONDS,
    MAX_SEGMENT_SECONDS,
    CharacterUpstream,
)
from knightvision.character.validation import (
    DEFAULT_CHARACTER_PROMPT,
    DEFAULT_DURATION,
    DEFAULT_TIMESTAMP_END,
    DEFAULT_TIMESTAMP_START,
    MAX_CHARACTER_PROMPT_CHARS,
    MAX_NAME_CHARS,
)
from knightvision.character.validation import MAX_PROMPT_CHARS as MAX_CHARACTER_TEXT_CHARS
from knightvision.kit.charclasses import CONTROL, NOT_BLANK
from knightvision.media.brand_color import BRAND_COLOR
from knightvision.media.music_styles import MUSIC_STYLES
from knightvision.media.shapes import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_RESOLUTION,
    RESOLUTIONS,
)
from knightvision.providers.ad_source.urls import MAX_NUMERIC_ID_DIGITS, ad_url_pattern
from knightvision.video.models import DEFAULT_MODEL_NAME, VideoModel
from knightvision.video.validation import MAX_CHARACTERS, MAX_PROMPT_CHARS

Schema = dict[str, Any]


def video_create_schema(models: Sequence[VideoModel]) -> Schema:
    """``POST /generate-video``: durations and resolutions are the chosen model's own."""
    per_model = [
        {
            "if": _model_is(model.name),
            "then": {
                "properties": {
                    "duration": {
                        **_integers(model.durations, nullable=True),
                        "default": model.default_duration,
                    },
                    "resolution": _choices(model.resolutions, nullable=True),
                }
            },
        }
        for model in models
    ]
    return {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": _text(
                MAX_PROMPT_CHARS, "@<name> or @<id> puts a finalized character in the video"
            ),
            "model": {
                **_choices([model.name for model in models], nullable=True),
                "default": DEFAULT_MODEL_NAME,
            },
            "duration": {
                "type": ["integer", "null"],
                "description": "Seconds; valid values depend on the model (default: its own)",
            },
            "aspect_ratio": {
                **_choices(ASPECT_RATIOS, nullable=True),
                "default": DEFAULT_ASPECT_RATIO,
            },
            "resolution": {**_choices(RESOLUTIONS, nullable=True), "default": DEFAULT_RESOLUTION},
            "character_ids": {
                "type": ["array", "null"],
                "items": {"type": "integer"},
                "x-maxDistinctItems": MAX_CHARACTERS,
                "description": f"Finalized characters to appear in the video (at most "
                f"{MAX_CHARACTERS} distinct ids)",
            },
            "brand_color": {
                "type": ["string", "null"],
                "pattern": f"^{BRAND_COLOR.pattern}$",
                "description": "The ad's brand colour (#RRGGBB): local-storyboard's buttons, "
                "badges and palette; other models ignore it",
            },
            "style": {
                **_choices(MUSIC_STYLES, nullable=True),
                "description": "Mood of the music bed under the voice-over (local-storyboard; "
                "other models accept and ignore it). Default: chosen from the prompt's words",
            },
        },
        "allOf": per_model,
    }


def character_create_schema(upstream: CharacterUpstream) -> Schema:
    """``POST /characters``: the shapes the characters' upstream renders, grouped by the aspect
    ratios each duration comes in."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for duration, aspects in upstream.shapes().items():
        groups.setdefault(aspects, []).append(duration)
    shapes = [
        {
            "properties": {
                "duration": _integers(durations, nullable=DEFAULT_DURATION in durations),
                "aspect_ratio": _choices(aspects, nullable=DEFAULT_ASPECT_RATIO in aspects),
            },
            "required": _required(
                ("duration", DEFAULT_DURATION in durations),
                ("aspect_ratio", DEFAULT_ASPECT_RATIO in aspects),
            ),
        }
        for aspects, durations in groups.items()
    ]
    return {
        "type": "object",
        "required": ["name", "prompt"],
        "properties": {
            "name": _text(MAX_NAME_CHARS, "Used as @<name> in generate-video prompts"),
            "prompt": _text(MAX_CHARACTER_TEXT_CHARS, "What the character looks like"),
            "duration": {
                "type": ["integer", "null"],
                "default": DEFAULT_DURATION,
                "description": "Video duration in seconds",
            },
            "aspect_ratio": {
                **_choices(ASPECT_RATIOS, nullable=True),
                "default": DEFAULT_ASPECT_RATIO,
            },
        },
        **_any_of(shapes),
    }


def character_finalize_schema(upstream: CharacterUpstream) -> Schema:
    """``POST /characters/<id>/finalize``: whole seconds, ``0 <= start < end``, a span within the
    upstream's segment limits (D16: at most 4 s). The end is also at most the character video's
    own duration, which only the character knows: here its longest possible duration."""
    shortest, longest = upstream.segment_seconds
    segments = []
    for end in range(1, MAX_CHARACTER_SECONDS + 1):
        starts = [
            start
            for start in range(end)
            if shortest <= end - start <= min(longest, MAX_SEGMENT_SECONDS)
        ]
        if not starts:
            continue
        segments.append(
            {
                "properties": {
                    "timestamp_start": _integers(
                        starts, nullable=DEFAULT_TIMESTAMP_START in starts
                    ),
                    "timestamp_end": _integers([end], nullable=end == DEFAULT_TIMESTAMP_END),
                },
                "required": _required(
                    ("timestamp_start", DEFAULT_TIMESTAMP_START in starts),
                    ("timestamp_end", end == DEFAULT_TIMESTAMP_END),
                ),
            }
        )
    return {
        "type": "object",
        "properties": {
            "timestamp_start": {
                "type": ["integer", "null"],
                "default": DEFAULT_TIMESTAMP_START,
                "description": "Start of the segment, whole seconds",
            },
            "timestamp_end": {
                "type": ["integer", "null"],
                "default": DEFAULT_TIMESTAMP_END,
                "description": f"End of the segment, whole seconds (at most "
                f"{min(longest, MAX_SEGMENT_SECONDS)} s after the start)",
            },
            "character_prompt": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "string",
                        "maxLength": MAX_CHARACTER_PROMPT_CHARS,
                        "not": {"pattern": CONTROL},
                    },
                    {"type": "string", "not": {"pattern": NOT_BLANK}},
                ],
                "default": DEFAULT_CHARACTER_PROMPT,
                "description": "Pose description; blank means the default",
            },
        },
        **_any_of(segments),
    }


def analyze_schema() -> Schema:
    """``POST /analyze``: an allowlisted ad URL, or a numeric Ad Library id (also as a number)."""
    return {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "anyOf": [
                    {"type": "string", "pattern": ad_url_pattern()},
                    {
                        "type": "integer",
                        "minimum": 1,
                        # Exclusive, so that it survives the OpenAPI document's floats exactly.
                        "exclusiveMaximum": min(10**MAX_NUMERIC_ID_DIGITS, JSON_INTEGER_LIMIT),
                    },
                ],
                "description": "Facebook/Instagram/TikTok ad URL or numeric ad ID",
            }
        },
    }


def limit_parameter(default: int) -> Schema:
    """The ``?limit=`` query parameter of a list (D4a): an integer, clamped, never refused."""
    return {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "default": default},
        "description": f"How many to list; clamped to {MIN_LIMIT}..{MAX_LIMIT}",
    }


def list_parameters(default: int, cursor_description: str) -> list[Schema]:
    """A list's query parameters: ``limit`` and the keyset cursor ``starting_after``."""
    return [
        limit_parameter(default),
        {
            "name": "starting_after",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "maxLength": 64},
            "description": cursor_description
            + "; the page after it (newest first). Unknown: 400 invalid_starting_after",
        },
    ]


def _model_is(name: str) -> Schema:
    if name == DEFAULT_MODEL_NAME:  # also when the model is left out or null
        return {"properties": {"model": {"enum": [name, None]}}}
    return {"properties": {"model": {"const": name}}, "required": ["model"]}


def _text(max_chars: int, description: str) -> Schema:
    """Required text: not blank, at most ``max_chars`` characters, no control character."""
    return {
        "type": "string",
        "maxLength": max_chars,
        "pattern": NOT_BLANK,
        "not": {"pattern": CONTROL},
        "description": description,
    }


def _choices(values: Iterable[str], *, nullable: bool) -> Schema:
    if nullable:
        return {"type": ["string", "null"], "enum": [*values, None]}
    return {"type": "string", "enum": list(values)}


def _integers(values: Sequence[int], *, nullable: bool) -> Schema:
    """JSON integers from ``values``: a range when they are consecutive, else each one."""
    kind: str | list[str] = ["integer", "null"] if nullable else "integer"
    low, high = min(values), max(values)
    if len(values) > 2 and list(values) == list(range(low, high + 1)):
        return {"type": kind, "minimum": low, "maximum": high}
    return {"type": kind, "enum": [*values, *([None] if nullable else [])]}


def _required(*fields: tuple[str, bool]) -> list[str]:
    """The fields that must be present: those whose default would not do here."""
    return [name for name, default_fits in fields if not default_fits]


def _any_of(branches: list[Schema]) -> Schema:
    return {"anyOf": branches} if branches else {"not": {}}
