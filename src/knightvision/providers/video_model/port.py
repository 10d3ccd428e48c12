"""The port every video model adapter implements.

Adapters are async: an upstream adapter submits a task, ``remember``s the upstream task id the
moment it has it (a durable checkpoint, so a retried job polls instead of paying twice, D14),
polls, and downloads the file to ``output``; the local renderer runs in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from knightvision.kit.errors import ProviderError


@dataclass(frozen=True)
class CharacterRef:
    """A finalized character as an upstream knows it (D16): its id there and the handle to write."""

    upstream_id: str
    handle: str | None = None
    name: str = ""


@dataclass(frozen=True)
class GenerationSpec:
    prompt: str
    duration: int
    width: int
    height: int
    aspect_ratio: str = "9:16"
    resolution: str = "720p"
    upstream_model: str | None = None
    # Our job id: upstream adapters derive their idempotency key / external task id from it (D14).
    job_id: str | None = None
    # Characters (D16): reference stills our own renderer composites into its scenes, and the
    # characters an upstream route was registered with (passed as its ids; the prompt already
    # names them the way that upstream expects).
    reference_images: tuple[Path, ...] = ()
    characters: tuple[CharacterRef, ...] = ()
    # Characters our presenter renderer made: their prompts, so our renderer draws them live.
    presenters: tuple[str, ...] = ()
    # The request's brand colour ("#RRGGBB"); only our own renderer draws with it.
    brand_color: str | None = None
    # The music bed's mood (media.music_styles); only our own renderer has a bed to play it.
    style: str | None = None


class GenerationRun(Protocol):
    """The running job, as an adapter sees it."""

    def progress(self, fraction: float) -> None:
        """Report 0..1; callable from any thread."""

    def recall(self, name: str) -> Any:
        """A value remembered by an earlier attempt of this job, or None."""

    async def remember(self, name: str, value: Any) -> None:
        """Durably record ``value`` (e.g. the upstream task id) before doing anything else."""


@runtime_checkable
class ParkingRun(Protocol):
    """A run that can wait without holding its worker: a job run by a worker (``parks``)."""

    @property
    def parks(self) -> bool:
        """Whether ``park`` may be called now."""

    async def park(self, seconds: float, name: str, value: Any) -> None:
        """Never returns: the job stops here, ``value`` is remembered as ``name``, and the job
        runs again (the adapter from the top) in ``seconds``. Where the run cannot park, the
        adapter sleeps in place instead."""


class VideoModelAdapter(Protocol):
    @property
    def name(self) -> str:
        """The adapter's name, as operators write it in ``adapter = "…"``."""

    def available(self) -> bool:
        """Whether this adapter can take work now (configured, credentials present)."""

    async def generate(
        self, spec: GenerationSpec, output: Path, run: GenerationRun
    ) -> dict[str, Any]:
        """Produce the finished MP4 at ``output``; returns provenance (upstream ids, transforms).
        Raises GenerationError."""


@dataclass(frozen=True)
class CharacterRegistration:
    """Register a finalized character with an upstream (D16), from the segment the partner chose."""

    name: str  # the partner's name for it
    handle: str  # the handle we ask for, where an upstream takes one (kie character_user_name)
    character_prompt: str  # the partner's description of the pose
    traits: str  # the prompt the character was created from
    timestamp_start: int
    timestamp_end: int
    origin_task_id: str | None = None  # the upstream task that rendered the character video
    segment: Path | None = None  # the cut segment, for upstreams that take an upload
    video_url: str | None = (
        None  # our public URL of the whole character video, for upstreams that fetch
    )
    job_id: str | None = None


class CharacterRegistrar(Protocol):
    """An adapter that can register characters (kie, OpenAI, EvoLink)."""

    async def register_character(
        self, registration: CharacterRegistration, run: GenerationRun
    ) -> dict[str, Any]:
        """``{"adapter", "character_id", "handle", …}``; raises GenerationError. Remembers any
        upstream task id through ``run`` first, so a retried job polls instead of registering twice
        (D14)."""


# What a partner reads for each upstream failure code (docs/api.md, "Job error codes"): one fixed
# sentence per code. The supplier's own words, which may name it or the operator's setup ("kie
# refused our credentials (HTTP 401)"), stay in ``GenerationError.detail`` for operator logs.
PARTNER_MESSAGES: dict[str, str] = {
    "upstream_unavailable": "The video provider was unreachable or kept failing",
    "upstream_rejected": "The video provider refused the request",
    "upstream_auth": "The video provider refused the operator's credentials",
    "insufficient_upstream_credits": "The operator's video provider balance is spent",
    "upstream_quota": "A video provider account limit was reached",
    "moderation_blocked": "The video provider's content filter refused the prompt or the render",
    "upstream_failed": (
        "The render failed at the video provider, or came back in a shape we cannot deliver"
    ),
    "upstream_timeout": "The render was still running at the time limit",
    "upstream_malformed": "The video provider sent an answer we could not read",
    "generation_unavailable": "Video generation not available",
}
DEFAULT_PARTNER_MESSAGE = "The video provider failed"


class GenerationError(ProviderError):
    """An adapter's failure, with a stable code the job reports (``upstream_timeout``, …).

    ``message`` (what the job shows the partner) is the fixed sentence for ``code``; ``detail``
    is the upstream's own account, for the operator's log only (``str()`` shows it, with the
    code)."""

    def __init__(self, code: str, detail: str, *, retryable: bool = False) -> None:
        super().__init__(
            code, PARTNER_MESSAGES.get(code, DEFAULT_PARTNER_MESSAGE), retryable=retryable
        )
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"
