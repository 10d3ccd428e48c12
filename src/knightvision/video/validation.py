"""Parse a ``generate-video`` body into a request, with the contract's exact error strings (D4a,
D6). ``api.request_schemas`` documents the same rules from the same constants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knightvision.errors import BadRequestError
from knightvision.kit.charclasses import control_character
from knightvision.media.brand_color import BRAND_COLOR
from knightvision.media.music_styles import MUSIC_STYLES
from knightvision.media.shapes import (
    ASPECT_RATIOS,
    DEFAULT_ASPECT_RATIO,
    DEFAULT_RESOLUTION,
    FRAME_SIZES,
)
from knightvision.video.models import DEFAULT_MODEL_NAME, ModelRegistry, VideoModel

MAX_PROMPT_CHARS = 2000
MAX_CHARACTERS = 2  # D16


@dataclass(frozen=True)
class VideoRequest:
    prompt: str
    model: VideoModel
    duration: int
    aspect_ratio: str
    resolution: str
    # Explicitly named characters (D16); shape checked, not yet resolved.
    character_ids: tuple[int, ...] = ()
    # The ad's brand colour, "#RRGGBB": local-storyboard's palette; other models ignore it.
    brand_color: str | None = None
    # The music bed's mood (local-storyboard only; other models' upstreams make their own
    # sound and ignore it). None: the renderer chooses from the prompt.
    style: str | None = None

    @property
    def frame_size(self) -> tuple[int, int]:
        return FRAME_SIZES[(self.resolution, self.aspect_ratio)]


def is_json_int(value: Any) -> bool:
    """JSON integers only: not ``"10"``, ``10.5`` or ``true``."""
    return isinstance(value, int) and not isinstance(value, bool)


def refuse_control_characters(text: str, field: str, param: str) -> None:
    """A text field holds no NUL or other control character (tab and line breaks are fine): a
    clear 400 on every database, which would otherwise disagree on what they store."""
    char = control_character(text)
    if char is not None:
        raise BadRequestError(
            f"{field} must not contain control characters (found U+{ord(char):04X})",
            code="invalid_characters",
            param=param,
        )


def parse_video_request(body: dict[str, Any], registry: ModelRegistry) -> VideoRequest:
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

    model_name = body.get("model")
    model = (
        registry.get(DEFAULT_MODEL_NAME if model_name is None else model_name)
        if (model_name is None or isinstance(model_name, str))
        else None
    )
    if model is None:
        raise BadRequestError(
            "Invalid model", code="invalid_model", param="model", allowed=registry.names()
        )

    duration = body.get("duration")
    if duration is None:
        duration = model.default_duration
    if not is_json_int(duration) or duration not in model.durations:
        raise BadRequestError(
            "Invalid duration",
            code="invalid_duration",
            param="duration",
            allowed=sorted(model.durations),
        )

    aspect_ratio = body.get("aspect_ratio")
    if aspect_ratio is None:
        aspect_ratio = DEFAULT_ASPECT_RATIO
    if aspect_ratio not in ASPECT_RATIOS:
        raise BadRequestError(
            "Invalid aspect_ratio",
            code="invalid_aspect_ratio",
            param="aspect_ratio",
            allowed=list(ASPECT_RATIOS),
        )

    resolution = body.get("resolution")
    if resolution is None:
        resolution = DEFAULT_RESOLUTION
    if not isinstance(resolution, str) or resolution not in model.resolutions:
        raise BadRequestError(
            "Invalid resolution",
            code="invalid_resolution",
            param="resolution",
            allowed=list(model.resolutions),
        )

    character_ids = body.get("character_ids")
    if character_ids is None:
        character_ids = []
    if not isinstance(character_ids, list) or not all(is_json_int(item) for item in character_ids):
        raise BadRequestError(
            "Invalid character_ids", code="invalid_character_ids", param="character_ids"
        )
    unique = tuple(dict.fromkeys(character_ids))
    if len(unique) > MAX_CHARACTERS:
        raise BadRequestError(
            f"At most {MAX_CHARACTERS} characters per video",
            code="too_many_characters",
            param="character_ids",
            max_items=MAX_CHARACTERS,
        )

    brand_color = body.get("brand_color")
    if brand_color is not None and (
        not isinstance(brand_color, str) or not BRAND_COLOR.fullmatch(brand_color)
    ):
        raise BadRequestError(
            'Invalid brand_color (expected "#RRGGBB")',
            code="invalid_brand_color",
            param="brand_color",
            pattern=BRAND_COLOR.pattern,
        )

    style = body.get("style")
    if style is not None and style not in MUSIC_STYLES:
        raise BadRequestError(
            f"Invalid style: must be one of {', '.join(MUSIC_STYLES)}",
            code="invalid_style",
            param="style",
            allowed=list(MUSIC_STYLES),
        )

    return VideoRequest(
        prompt=prompt,
        model=model,
        duration=duration,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        character_ids=unique,
        brand_color=brand_color,
        style=style,
    )
