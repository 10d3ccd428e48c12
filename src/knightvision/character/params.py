"""The ``character.create`` and ``character.finalize`` jobs' params: written at submit, read by
the pipelines and the character views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast


class CharacterCreateParams(TypedDict):
    character_id: int
    public_token: str
    name: str
    prompt: str
    duration: int
    aspect_ratio: str
    width: int
    height: int
    adapter: str
    upstream_model: str | None


class CharacterFinalizeParams(TypedDict):
    character_id: int
    public_token: str
    name: str
    prompt: str
    duration: int
    adapter: str
    upstream_model: str | None
    origin_task_id: str | None  # the creation's upstream task, for upstreams that cut from it
    video_url: str
    handle: str
    timestamp_start: int
    timestamp_end: int
    character_prompt: str


def create_params(stored: Mapping[str, Any]) -> CharacterCreateParams:
    """A stored job's params, as ``CharacterService.create`` wrote them."""
    return cast(CharacterCreateParams, stored)


def finalize_params(stored: Mapping[str, Any]) -> CharacterFinalizeParams:
    """A stored job's params, as ``CharacterService.finalize`` wrote them."""
    return cast(CharacterFinalizeParams, stored)
