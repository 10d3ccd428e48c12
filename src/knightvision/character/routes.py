"""The character route (D16): where character videos are rendered and characters registered.

One configured route serves every new character (``character_route`` in the settings, e.g. TOML
``[character_route] adapter = "kie"``); a character keeps the route it was created on.

- ``local-storyboard`` (default): our presenter renderer; reference stills only, offline.
- ``kie``: the video on a kie Sora model, registered with ``sora-2-characters-pro`` from that
  task and the timestamps (segment 1-4 s).
- ``openai``: the video on OpenAI Sora, registered by uploading the cut segment to
  ``POST /videos/characters`` (OpenAI asks for 2-4 s clips).
- ``evolink``: the video on EvoLink, registered with ``sora-character`` from our public URL of
  the video and the timestamps (EvoLink takes at most 2 s).
- ``disabled``: creating characters answers 500 "Video generation not available".

Each route's segment limits are its own: a finalize beyond them is a 400 before any charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from knightvision.providers.video_model.capabilities import plan_render
from knightvision.providers.video_model.catalogue import CATALOGUES
from knightvision.video.models import ASPECT_RATIOS, FRAME_SIZES

if TYPE_CHECKING:
    from knightvision.settings import ModelRoute

LOCAL = "local-storyboard"
DISABLED = "disabled"
CHARACTER_ADAPTERS = (LOCAL, "kie", "openai", "evolink", DISABLED)
# The video model a character video renders on when the route names only the adapter.
DEFAULT_VIDEO_MODEL = {"kie": "sora-2-text-to-video", "openai": "sora-2", "evolink": "sora-2"}
# Shortest and longest finalize segment each route accepts, whole seconds (D16: at most 4).
SEGMENT_SECONDS = {
    LOCAL: (1, 4),
    "kie": (1, 4),
    "openai": (2, 4),
    "evolink": (1, 2),
    DISABLED: (1, 4),
}
MAX_CHARACTER_SECONDS = 60
RESOLUTION = "720p"  # character videos are 720p in every aspect ratio


@dataclass(frozen=True)
class CharacterRoute:
    adapter: str
    upstream_model: str | None = None

    @property
    def disabled(self) -> bool:
        return self.adapter == DISABLED

    @property
    def is_local(self) -> bool:
        return self.adapter == LOCAL

    @property
    def segment_seconds(self) -> tuple[int, int]:
        return SEGMENT_SECONDS.get(self.adapter, (1, 4))

    def renders(self, duration: int, aspect_ratio: str) -> bool:
        """Whether a character video of this shape can be delivered exactly on this route."""
        if aspect_ratio not in ASPECT_RATIOS or not 1 <= duration <= MAX_CHARACTER_SECONDS:
            return False
        if duration < self.segment_seconds[0]:  # it could never be finalized
            return False
        if self.adapter in (LOCAL, DISABLED):
            return True
        caps = CATALOGUES.get(self.adapter, {}).get(self.upstream_model or "")
        return (
            caps is not None and plan_render(caps, duration, aspect_ratio, RESOLUTION) is not None
        )


def frame_size(aspect_ratio: str) -> tuple[int, int]:
    return FRAME_SIZES[(RESOLUTION, aspect_ratio)]


def character_route(route: ModelRoute | None) -> CharacterRoute:
    if route is None:
        return CharacterRoute(LOCAL)
    if route.adapter in (LOCAL, DISABLED):
        return CharacterRoute(route.adapter)
    return CharacterRoute(
        route.adapter, route.upstream_model or DEFAULT_VIDEO_MODEL.get(route.adapter)
    )


def character_route_problems(route: ModelRoute) -> list[str]:
    """Why a configured character route cannot be used (empty when it is fine)."""
    if route.adapter not in CHARACTER_ADAPTERS:
        return [
            f"adapter {route.adapter!r} cannot make characters; one of {list(CHARACTER_ADAPTERS)}"
        ]
    resolved = character_route(route)
    if resolved.adapter in (LOCAL, DISABLED):
        return []
    known = CATALOGUES.get(resolved.adapter, {})
    if resolved.upstream_model not in known:
        return [
            f"{resolved.adapter} does not know upstream model {resolved.upstream_model!r}; known: {sorted(known)}"
        ]
    if resolved.adapter == "kie" and not str(resolved.upstream_model).startswith("sora-2"):
        # sora-2-characters-pro takes its character from a Sora task on kie.
        return [f"kie characters need a Sora model, not {resolved.upstream_model!r}"]
    if not any(
        resolved.renders(d, a) for d in range(1, MAX_CHARACTER_SECONDS + 1) for a in ASPECT_RATIOS
    ):
        return [f"{resolved.adapter} {resolved.upstream_model} cannot render any character video"]
    return []
