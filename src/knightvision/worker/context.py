"""What a running job's pipeline may do: report progress, checkpoint stages, use scratch space."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from knightvision.job.queue import ClaimedJob, JobQueue
from knightvision.job.status import JobStatus


class LeaseLostError(Exception):
    """Another worker owns the job now; this one must stop writing."""


class JobContext:
    def __init__(self, job: ClaimedJob, queue: JobQueue) -> None:
        self.job = job
        self.queue = queue
        self._visible: dict[str, Any] = {}
        self._published: dict[str, Any] = {}

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.job.checkpoint

    def progress_from_thread(self, fraction: float, *, start: int = 5, end: int = 95) -> None:
        """Called from the stage's thread; the heartbeat publishes it."""
        self._visible["progress"] = int(start + (end - start) * min(1.0, max(0.0, fraction)))

    async def report(
        self,
        *,
        status: JobStatus | None = None,
        message: str | None = None,
        progress: int | None = None,
    ) -> None:
        """Publish status/message/progress now (and extend the lease)."""
        visible = {"status": status, "message": message, "progress": progress}
        self._visible.update({name: value for name, value in visible.items() if value is not None})
        await self.beat()

    def _unpublished(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self._visible.items()
            if self._published.get(name) != value
        }

    def has_unpublished(self) -> bool:
        return bool(self._unpublished())

    async def beat(self) -> None:
        visible = self._unpublished()
        if not await self.queue.heartbeat(self.job, **visible):
            raise LeaseLostError(self.job.id)
        self._published.update(visible)

    async def save_checkpoint(self, **stage_outputs: Any) -> None:
        self.job = replace(self.job, checkpoint={**self.job.checkpoint, **stage_outputs})
        if not await self.queue.save_checkpoint(self.job, self.job.checkpoint):
            raise LeaseLostError(self.job.id)


class AdapterRun:
    """The job as a video adapter sees it (``GenerationRun``): progress, and durable memory across
    attempts. ``progress_slice`` maps the adapter's 0..1 into part of the job's progress; without
    one the job's default span applies."""

    def __init__(self, context: JobContext, progress_slice: tuple[int, int] | None = None) -> None:
        self._context = context
        self._slice = progress_slice

    def progress(self, fraction: float) -> None:
        if self._slice is None:
            self._context.progress_from_thread(fraction)
        else:
            start, end = self._slice
            self._context.progress_from_thread(fraction, start=start, end=end)

    def recall(self, name: str) -> Any:
        return self._context.checkpoint.get(f"adapter.{name}")

    async def remember(self, name: str, value: Any) -> None:
        await self._context.save_checkpoint(**{f"adapter.{name}": value})
