"""The ``video.generate`` job's params: written at submit, read by the pipeline and the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast


class VideoCharacter(TypedDict):
    """A character the video shows (D16), resolved at submit."""

    id: int
    name: str
    adapter: str
    reference_keys: list[str]  # its stills on our storage (what our renderer composites)
    upstream_id: NotRequired[str]  # its registration with an upstream
    handle: NotRequired[str]
    # The prompt of a character our presenter renderer made: our renderer draws it live from it.
    presenter_prompt: NotRequired[str]


class VideoCharacters(TypedDict):
    """What a request's characters add to its params."""

    characters: list[VideoCharacter]
    render_prompt: str  # the prompt with each character named the way the upstream expects


class VideoJobParams(TypedDict):
    prompt: str
    model: str
    duration: int
    aspect_ratio: str
    resolution: str
    width: int
    height: int
    adapter: str
    upstream_model: str | None
    characters: NotRequired[list[VideoCharacter]]
    render_prompt: NotRequired[str]
    brand_color: NotRequired[str]  # "#RRGGBB", when the request gave one
    style: NotRequired[str]  # the music bed's mood, when the request chose one
    # Submitted with a test-mode key: rendered offline whatever the model, and marked so.
    test_mode: NotRequired[bool]


def video_params(stored: Mapping[str, Any]) -> VideoJobParams:
    """A stored job's params, as ``VideoService.submit`` wrote them."""
    return cast(VideoJobParams, stored)
