"""What a running job's pipeline may do: report progress, checkpoint stages, use scratch space."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from knightvision.job.errors import CANCELLED, JobParked, JobStopped
from knightvision.job.queue import ClaimedJob, JobQueue, Lease
from knightvision.job.status import JobStatus
from knightvision.kit.metrics import JobTrace

# How many times the job has parked so far (operators see it in ``jobs show``).
PARKS = "parks"


class LeaseLostError(Exception):
    """Another worker owns the job now; this one must stop writing."""


class Slot:
    """A running job's hold on one of its worker's slots."""

    def __init__(self, free_slots: asyncio.Semaphore) -> None:
        self._free_slots = free_slots
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._free_slots.release()

    async def take_back(self) -> None:
        if not self.held:
            await self._free_slots.acquire()
            self.held = True


class JobContext:
    def __init__(
        self, job: ClaimedJob, queue: JobQueue, slot: Slot | None = None, *, parks: bool = False
    ) -> None:
        self.job = job
        self.queue = queue
        self._slot = slot
        # Whether a wait may park the job (``JobParked``): only where a runner catches it.
        self.parks = parks
        self._visible: dict[str, Any] = {}
        # What the row shows already: reporting it again writes nothing.
        shown = {"status": job.status, "message": job.message, "progress": job.progress}
        self._published: dict[str, Any] = {k: v for k, v in shown.items() if v is not None}
        self.trace = JobTrace(job.id, job.kind)  # log lines' job labels, per-stage durations
        # Set when the job must stop (shutdown, deadline, cancel): an Event, because the work
        # that checks it runs in threads (a render checks at every progress tick, ~10 frames).
        self._stop = threading.Event()
        self.stop_reason: str | None = None

    def request_stop(self, reason: str) -> None:
        """Tell the job's work to stop at its next frame or stage; the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    def raise_if_stopped(self) -> None:
        if self._stop.is_set():
            raise JobStopped(self.stop_reason or "")

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.job.checkpoint

    def progress_from_thread(self, fraction: float, *, start: int = 5, end: int = 95) -> None:
        """Called from the stage's thread; the heartbeat publishes it. Also where that thread
        stops once the job was told to (``JobStopped`` ends the render or the extraction)."""
        self.raise_if_stopped()
        self._visible["progress"] = self._not_back(
            int(start + (end - start) * min(1.0, max(0.0, fraction)))
        )

    def _not_back(self, progress: int) -> int:
        """A job resumed after a park (or a retry) never shows less progress than it had."""
        return max(self.job.progress, progress)

    async def report(
        self,
        *,
        status: JobStatus | None = None,
        message: str | None = None,
        progress: int | None = None,
    ) -> None:
        """Publish status/message/progress now (and extend the lease); nothing new, no write.
        A stage boundary: a job told to stop stops here."""
        self.raise_if_stopped()
        if status is not None:
            self.trace.stage(status)
        visible = {
            "status": status,
            "message": message,
            "progress": None if progress is None else self._not_back(progress),
        }
        self._visible.update({name: value for name, value in visible.items() if value is not None})
        if self.has_unpublished():
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
        lease = await self.queue.heartbeat(self.job, **visible)
        if not lease:
            raise LeaseLostError(self.job.id)
        self._published.update(visible)
        if lease is Lease.CANCEL_REQUESTED:
            self.request_stop(CANCELLED)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @asynccontextmanager
    async def off_slot(self) -> AsyncIterator[None]:
        """Wait on a remote service without holding a worker slot: the next job may run in the
        meantime, and this one queues for a slot again when the block ends. The lease is still
        kept alive by the heartbeat. Only for waiting, never for work on this host's CPU."""
        if self._slot is None:  # run outside a worker's slots (tests, one-off execution)
            yield
            return
        self._slot.release()
        try:
            yield
        finally:
            task = asyncio.current_task()
            if task is None or not task.cancelling():  # a cancelled job ends without a slot
                await self._slot.take_back()

    async def park(self, parked: JobParked) -> None:
        """Hand the job back to the queue until its wait is over (``JobParked``), publishing what
        the partner has not seen yet."""
        parks = int(self.job.checkpoint.get(PARKS) or 0) + 1
        checkpoint = {**self.job.checkpoint, **parked.checkpoint, PARKS: parks}
        if not await self.queue.park(self.job, parked.delay, checkpoint, **self._unpublished()):
            raise LeaseLostError(self.job.id)

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

    @property
    def parks(self) -> bool:
        return self._context.parks

    async def park(self, seconds: float, name: str, value: Any) -> None:
        """Stop here and run again in ``seconds`` (on any worker), ``value`` remembered as
        ``name``: the adapter waits on its upstream without holding a slot (ADR 0001)."""
        raise JobParked(seconds, {f"adapter.{name}": value})
