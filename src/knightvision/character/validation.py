"""Parse ``POST /characters`` and ``POST /characters/<id>/finalize`` bodies, with the exact error
strings of the contract and D6 (D4a: JSON integers only; unknown fields ignored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knightvision.character.upstream import MAX_SEGMENT_SECONDS, CharacterUpstream
from knightvision.errors import BadRequestError
from knightvision.media.shapes import ASPECT_RATIOS, DEFAULT_ASPECT_RATIO
from knightvision.video.validation import is_json_int, refuse_control_characters

MAX_NAME_CHARS = 50
MAX_PROMPT_CHARS = 1000
MAX_CHARACTER_PROMPT_CHARS = 1000  # kie's limit for character_prompt, the tightest upstream's
DEFAULT_DURATION = 10
DEFAULT_TIMESTAMP_START = 1
DEFAULT_TIMESTAMP_END = 4
DEFAULT_CHARACTER_PROMPT = "Person looking into the camera"


@dataclass(frozen=True)
class CharacterRequest:
    name: str
    prompt: str
    duration: int
    aspect_ratio: str


@dataclass(frozen=True)
class FinalizeRequest:
    timestamp_start: int
    timestamp_end: int
    character_prompt: str


def not_found_id(raw: str) -> int | None:
    """A character id from the path: ASCII digits only (D9: anything else is "Not found")."""
    if not raw or len(raw) > 18 or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def parse_character_request(body: dict[str, Any], upstream: CharacterUpstream) -> CharacterRequest:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("Please provide a name", code="missing_name", param="name")
    if len(name) > MAX_NAME_CHARS:
        raise BadRequestError(
            f"Name must be {MAX_NAME_CHARS} characters or less",
            code="name_too_long",
            param="name",
            max_length=MAX_NAME_CHARS,
        )
    refuse_control_characters(name, "Name", "name")

    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError("Please provide a prompt", code="missing_prompt", param="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise BadRequestError(
            f"Prompt must be {MAX_PROMPT_CHARS} characters or less",
            code="prompt_too_long",
            param="prompt",
            max_length=MAX_PROMPT_CHARS,
        )
    refuse_control_characters(prompt, "Prompt", "prompt")

    duration = body.get("duration")
    if duration is None:
        duration = DEFAULT_DURATION
    if not is_json_int(duration) or not any(
        upstream.renders(duration, aspect) for aspect in ASPECT_RATIOS
    ):
        raise BadRequestError(
            "Invalid duration",
            code="invalid_duration",
            param="duration",
            allowed=sorted(upstream.shapes()),
        )
    aspect_ratio = body.get("aspect_ratio")
    if aspect_ratio is None:
        aspect_ratio = DEFAULT_ASPECT_RATIO
    if not isinstance(aspect_ratio, str) or not upstream.renders(duration, aspect_ratio):
        raise BadRequestError(
            "Invalid aspect_ratio",
            code="invalid_aspect_ratio",
            param="aspect_ratio",
            allowed=list(upstream.shapes().get(duration, ())),
        )
    return CharacterRequest(
        name=" ".join(name.split()), prompt=prompt, duration=duration, aspect_ratio=aspect_ratio
    )


def parse_finalize_request(
    body: dict[str, Any], video_seconds: int, upstream: CharacterUpstream
) -> FinalizeRequest:
    """D16: whole seconds, 0 <= start < end <= the video's duration, end - start <= 4, and within
    the characters' upstream's own segment limits."""
    start = body.get("timestamp_start")
    end = body.get("timestamp_end")
    start = DEFAULT_TIMESTAMP_START if start is None else start
    end = DEFAULT_TIMESTAMP_END if end is None else end
    if (
        not is_json_int(start)
        or not is_json_int(end)
        or not 0 <= start < end <= video_seconds
        or end - start > MAX_SEGMENT_SECONDS
    ):
        raise BadRequestError(
            "Invalid timestamps",
            code="invalid_timestamps",
            param="timestamp_start" if not is_json_int(start) or start < 0 else "timestamp_end",
            minimum=0,
            maximum=video_seconds,
            max_span=MAX_SEGMENT_SECONDS,
        )
    shortest, longest = upstream.segment_seconds
    if not shortest <= end - start <= longest:
        span = f"{longest}" if shortest <= 1 else f"{shortest} to {longest}"
        raise BadRequestError(
            # Wire text (pinned by tests), older than the word "upstream".
            f"Timestamps must span {span} seconds for this character route",
            code="invalid_timestamps",
            param="timestamp_end",
            min_span=shortest,
            max_span=longest,
        )

    character_prompt = body.get("character_prompt")
    if character_prompt is None or (
        isinstance(character_prompt, str) and not character_prompt.strip()
    ):
        character_prompt = DEFAULT_CHARACTER_PROMPT
    if not isinstance(character_prompt, str):
        raise BadRequestError(
            "Invalid character_prompt", code="invalid_character_prompt", param="character_prompt"
        )
    if len(character_prompt) > MAX_CHARACTER_PROMPT_CHARS:
        raise BadRequestError(
            f"Character prompt must be {MAX_CHARACTER_PROMPT_CHARS} characters or less",
            code="prompt_too_long",
            param="character_prompt",
            max_length=MAX_CHARACTER_PROMPT_CHARS,
        )
    refuse_control_characters(character_prompt, "Character prompt", "character_prompt")
    return FinalizeRequest(
        timestamp_start=start, timestamp_end=end, character_prompt=character_prompt.strip()
    )
