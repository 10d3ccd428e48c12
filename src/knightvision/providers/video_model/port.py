"""The port every video model adapter implements.

Adapters are async: an upstream adapter submits a task, ``remember``s the upstream task id the
moment it has it (a durable checkpoint, so a retried job polls instead of paying twice, D14),
polls, and downloads the file to ``output``; the local renderer runs in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


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


class GenerationRun(Protocol):
    """The running job, as an adapter sees it."""

    def progress(self, fraction: float) -> None:
        """Report 0..1; callable from any thread."""

    def recall(self, name: str) -> Any:
        """A value remembered by an earlier attempt of this job, or None."""

    async def remember(self, name: str, value: Any) -> None:
        """Durably record ``value`` (e.g. the upstream task id) before doing anything else."""


class VideoModelAdapter(Protocol):
    name: str

    def available(self) -> bool:
        """Whether this adapter can take work now (configured, credentials present)."""

    async def generate(self, spec: GenerationSpec, output: Path, run: GenerationRun) -> dict[str, Any]:
        """Produce the finished MP4 at ``output``; returns provenance (upstream ids, transforms).
        Raises GenerationError."""


class GenerationError(Exception):
    """An adapter's failure, with a stable code the job reports (``upstream_timeout``, …)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
