"""The characters' upstream (D16): where character videos are rendered and characters registered.

One configured upstream serves every new character (``character_route`` in the settings, e.g. TOML
``[character_route] adapter = "kie"``); a character keeps the upstream it was created on.

- ``local-storyboard`` (default): our presenter renderer; reference stills only, offline.
- ``kie``: the video on a kie Sora model, registered with ``sora-2-characters-pro`` from that
  task and the timestamps (segment 1-4 s).
- ``openai``: the video on OpenAI Sora, registered by uploading the cut segment to
  ``POST /videos/characters`` (OpenAI asks for 2-4 s clips).
- ``evolink``: the video on EvoLink, registered with ``sora-character`` from our public URL of
  the video and the timestamps (EvoLink takes at most 2 s).
- ``disabled``: creating characters answers 500 "Video generation not available".

Each upstream's segment limits are its own: a finalize beyond them is a 400 before any charge.
"""

from __future__ import annotations

from dataclasses import dataclass

from knightvision.adapter_names import AdapterName
from knightvision.media.shapes import ASPECT_RATIOS, FRAME_SIZES
from knightvision.providers.video_model.capabilities import plan_render
from knightvision.providers.video_model.catalogue import CATALOGUES
from knightvision.settings import ModelUpstream, invalid_setting

# Short names the character pipeline and service compare adapters with.
LOCAL = AdapterName.LOCAL_STORYBOARD
DISABLED = AdapterName.DISABLED
CHARACTER_ADAPTERS = (LOCAL, AdapterName.KIE, AdapterName.OPENAI, AdapterName.EVOLINK, DISABLED)
# The video model a character video renders on when the setting names only the adapter.
DEFAULT_VIDEO_MODEL: dict[str, str] = {
    AdapterName.KIE: "sora-2-text-to-video",
    AdapterName.OPENAI: "sora-2",
    AdapterName.EVOLINK: "sora-2",
}
# Shortest and longest finalize segment each upstream accepts, whole seconds (D16: at most 4).
SEGMENT_SECONDS: dict[str, tuple[int, int]] = {
    LOCAL: (1, 4),
    AdapterName.KIE: (1, 4),
    AdapterName.OPENAI: (2, 4),
    AdapterName.EVOLINK: (1, 2),
    DISABLED: (1, 4),
}
MAX_SEGMENT_SECONDS = 4  # D16, on every upstream
MAX_CHARACTER_SECONDS = 60
RESOLUTION = "720p"  # character videos are 720p in every aspect ratio


@dataclass(frozen=True)
class CharacterUpstream:
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
        return SEGMENT_SECONDS.get(self.adapter, (1, MAX_SEGMENT_SECONDS))

    def renders(self, duration: int, aspect_ratio: str) -> bool:
        """Whether a character video of this shape can be delivered exactly on this upstream."""
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

    def shapes(self) -> dict[int, tuple[str, ...]]:
        """Every duration a character video can have here, with the aspect ratios it renders in."""
        shapes: dict[int, tuple[str, ...]] = {}
        for duration in range(1, MAX_CHARACTER_SECONDS + 1):
            aspects = tuple(a for a in ASPECT_RATIOS if self.renders(duration, a))
            if aspects:
                shapes[duration] = aspects
        return shapes


def frame_size(aspect_ratio: str) -> tuple[int, int]:
    return FRAME_SIZES[(RESOLUTION, aspect_ratio)]


def _resolve(setting: ModelUpstream | None) -> CharacterUpstream:
    if setting is None:
        return CharacterUpstream(LOCAL)
    if setting.adapter in (LOCAL, DISABLED):
        return CharacterUpstream(setting.adapter)
    return CharacterUpstream(
        setting.adapter, setting.upstream_model or DEFAULT_VIDEO_MODEL.get(setting.adapter)
    )


def character_upstream(setting: ModelUpstream | None) -> CharacterUpstream:
    """The characters' upstream from the ``character_route`` setting.

    Raises ``OperatorError`` naming ``KNIGHTVISION_CHARACTER_ROUTE`` when it cannot be used."""
    problems = character_upstream_problems(setting) if setting is not None else []
    if problems:
        raise invalid_setting("character_route", problems)
    return _resolve(setting)


def character_upstream_problems(setting: ModelUpstream) -> list[str]:
    """Why a configured characters' upstream cannot be used (empty when it is fine)."""
    if setting.adapter not in CHARACTER_ADAPTERS:
        return [
            f"adapter {str(setting.adapter)!r} cannot make characters; one of "
            f"{[str(adapter) for adapter in CHARACTER_ADAPTERS]}"
        ]
    resolved = _resolve(setting)
    if resolved.adapter in (LOCAL, DISABLED):
        return []
    known = CATALOGUES.get(resolved.adapter, {})
    if resolved.upstream_model not in known:
        return [
            f"{resolved.adapter} does not know upstream model {resolved.upstream_model!r}; "
            f"known: {sorted(known)}"
        ]
    if resolved.adapter == AdapterName.KIE and not str(resolved.upstream_model).startswith(
        "sora-2"
    ):
        # sora-2-characters-pro takes its character from a Sora task on kie.
        return [f"kie characters need a Sora model, not {resolved.upstream_model!r}"]
    if not resolved.shapes():
        return [f"{resolved.adapter} {resolved.upstream_model} cannot render any character video"]
    return []
