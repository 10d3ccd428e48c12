"""The claim loop: N slots, each running one job's pipeline at a time.

A slot stands for this host's CPU. A job that waits on a remote service (a language model's
reply) hands its slot to the next job while it waits (``JobContext.off_slot``) and queues for a
slot again when the answer is in, so a slow service never leaves a slot idle; ``waiting`` bounds
how many such jobs one worker holds besides its slots.

A job that waits minutes on an upstream render it already started holds neither: it parks
(``JobParked``): the lease goes back to the jobs table with the time of its next poll, and any
worker claims it again when due and resumes at the poll (ADR 0001). So one worker with two slots
oversees hundreds of renders.

A heartbeat task extends the lease every third of its length and publishes progress once a
second; it also learns when the partner cancelled the job, which then stops at its next frame or
stage (``JobContext.request_stop``), as does a job past its deadline. A failure is retried
with backoff while attempts remain and the failure is retryable;
otherwise the job ends in error with a refund. On shutdown a running job is told to stop and
its lease is handed back at once, so another worker resumes it from its last checkpoint without
counting the attempt. A database that goes away mid-job is waited out, not counted against the job
either: the job's writes wait for it (``JobQueue``), and the claim loop keeps looking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from knightvision.db.outages import DATABASE_UNREACHABLE, brief
from knightvision.job.errors import (
    CANCELLED,
    SHUTDOWN,
    TIMEOUT,
    JobFailure,
    JobParked,
    JobStopped,
)
from knightvision.job.queue import ClaimedJob, JobQueue, cancelled_failure
from knightvision.job.wakeups import listen_for_jobs, listener_conninfo
from knightvision.kit.clock import utcnow
from knightvision.worker.context import PARKS, JobContext, LeaseLostError, Slot

log = logging.getLogger("knightvision.worker")

JobHandler = Callable[[JobContext], Awaitable[dict[str, Any]]]


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkerRunner:
    def __init__(
        self,
        queue: JobQueue,
        handlers: dict[str, JobHandler],
        *,
        slots: int,
        poll_interval: float,
        worker_id: str | None = None,
        waiting: int | None = None,
        listen: bool = True,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.slots = slots
        self.poll_interval = poll_interval
        self.worker_id = worker_id or new_worker_id()
        self._wake = asyncio.Event()
        self._free_slots = asyncio.Semaphore(slots)
        # jobs this worker holds at once: on a slot, or waiting off one (default: 4 per slot)
        self._capacity = asyncio.Semaphore(slots + (4 * slots if waiting is None else waiting))
        self._running: set[asyncio.Task[None]] = set()
        self._contexts: set[JobContext] = set()  # the running jobs, told to stop on shutdown
        # On PostgreSQL a new job wakes the worker at once (LISTEN/NOTIFY); polling is the fallback.
        self._listen_on = listener_conninfo(queue.engine.url) if listen else None

    def wake(self) -> None:
        """A job was just enqueued in this process: skip the poll wait."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started with %d slots", self.worker_id, self.slots)
        claiming = asyncio.create_task(self._claim_loop(stop), name="claim")
        helpers = [claiming]
        if self._listen_on is not None:
            listening = listen_for_jobs(self._listen_on, list(self.handlers), self.wake, stop)
            helpers.append(asyncio.create_task(listening, name="listen"))
        try:
            await stop.wait()
        finally:
            for helper in helpers:
                helper.cancel()
            for context in self._contexts:  # threads stop at their next frame or stage
                context.request_stop(SHUTDOWN)
            for job in self._running:
                job.cancel()  # each hands its lease back at once (``release``)
            await asyncio.gather(*helpers, *self._running, return_exceptions=True)
            log.info("worker %s stopped", self.worker_id)

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        """Claim a job whenever a slot is free and the worker holds fewer jobs than it may."""
        kinds = list(self.handlers)
        unreachable = False  # one line when the database goes away and one when it is back
        while not stop.is_set():
            await self._capacity.acquire()
            await self._free_slots.acquire()
            self._wake.clear()  # before the claim, so a wake-up during it is not lost
            try:
                job = await self.queue.claim(self.worker_id, kinds)
            except asyncio.CancelledError:
                self._free_slots.release()
                self._capacity.release()
                raise
            except DATABASE_UNREACHABLE as exc:  # keep the worker alive, and the log readable
                if not unreachable:
                    log.warning(
                        "database unreachable, claiming again until it is back (%s)", brief(exc)
                    )
                unreachable = True
                job = None
            except Exception:
                log.exception("claim failed")
                job = None
            else:
                if unreachable:
                    log.info("database reachable again")
                    unreachable = False
            if job is None:
                self._free_slots.release()
                self._capacity.release()
                with contextlib.suppress(TimeoutError):  # the poll interval passed: look again
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                continue
            task = asyncio.create_task(self._run_on_slot(job), name=f"job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_on_slot(self, job: ClaimedJob) -> None:
        slot = Slot(self._free_slots)
        try:
            await self.execute(job, slot)
        finally:
            slot.release()
            self._capacity.release()

    async def execute(self, job: ClaimedJob, slot: Slot | None = None) -> None:
        context = JobContext(job, self.queue, slot, parks=True)
        work = asyncio.ensure_future(self.handlers[job.kind](context))
        heartbeat = asyncio.create_task(self._heartbeat(context, work))
        self._contexts.add(context)
        # A parked job comes back at every poll: one info line when it starts is enough.
        log.log(
            logging.DEBUG if job.checkpoint.get(PARKS) else logging.INFO,
            "job %s (%s) attempt %d/%d",
            job.id,
            job.kind,
            job.attempts,
            job.max_attempts,
        )
        try:
            await self._run_and_settle(context, work, heartbeat)
        except DATABASE_UNREACHABLE as exc:
            # Its last write waited out its patience: the job stays leased to this worker, and
            # the next one resumes it once the lease runs out.
            log.warning("job %s: database unreachable, left to its lease (%s)", job.id, brief(exc))
        finally:
            heartbeat.cancel()
            context.trace.finish()
            self._contexts.discard(context)

    async def _run_and_settle(
        self,
        context: JobContext,
        work: asyncio.Future[dict[str, Any]],
        heartbeat: asyncio.Task[None],
    ) -> None:
        """Wait for the job's work, then write how it ended (complete, failed, parked, ...)."""
        job = context.job
        try:
            remaining = max(0.0, (job.deadline_at - utcnow()).total_seconds())
            result = await self._outcome(context, work, remaining)
        except asyncio.CancelledError:
            await asyncio.shield(self.queue.release(context.job))
            raise
        except LeaseLostError:
            log.warning("job %s: lease lost, leaving it to its new owner", job.id)
            return
        except JobParked as parked:
            heartbeat.cancel()  # the park gives the lease back: no beat may race it
            await self._park(context, parked)
        except JobStopped as stopped:
            await self._settle_stop(context, stopped.reason)
        except JobFailure as failure:
            await self._settle_failure(context.job, failure)
        except Exception as exc:
            log.exception("job %s crashed", job.id)
            await self._settle_failure(
                context.job,
                JobFailure(
                    "internal_error",
                    f"Internal error while processing the job ({type(exc).__name__})",
                    retryable=True,
                ),
            )
        else:
            if await self.queue.complete(context.job, result):
                log.info("job %s complete", job.id)

    @staticmethod
    async def _outcome(
        context: JobContext, work: asyncio.Future[dict[str, Any]], seconds_left: float
    ) -> dict[str, Any]:
        """The job's result, or why it stopped: past ``seconds_left`` its work is stopped like a
        cancelled one (its render thread at the next frame), not left to burn CPU."""
        try:
            await asyncio.wait({work}, timeout=seconds_left)
            if not work.done():
                context.request_stop(TIMEOUT)
                work.cancel()
                await asyncio.wait({work})
        except asyncio.CancelledError:  # this worker stops
            context.request_stop(SHUTDOWN)
            work.cancel()
            raise
        if work.cancelled():  # by the deadline or by the partner's cancel (``_heartbeat``)
            raise JobStopped(context.stop_reason or SHUTDOWN)
        return work.result()

    async def _settle_stop(self, context: JobContext, reason: str) -> None:
        job = context.job
        if reason == CANCELLED:
            log.info("job %s cancelled", job.id)
            await self.queue.fail(job, cancelled_failure(), refund=job.cancel_refund)
        elif reason == TIMEOUT:
            await self._settle_failure(
                job, JobFailure("timeout", "The job ran past its time limit", retryable=True)
            )
        else:  # the work saw the stop before this worker's own cancellation reached it
            await asyncio.shield(self.queue.release(job))

    async def _park(self, context: JobContext, parked: JobParked) -> None:
        # A stop arriving mid-write must not leave the job leased to a worker that is gone: the
        # hand-back completes first (a stopping worker's jobs are claimable at once).
        parking = asyncio.ensure_future(context.park(parked))
        try:
            await asyncio.shield(parking)
        except asyncio.CancelledError:
            with contextlib.suppress(LeaseLostError):
                await parking
            raise
        except LeaseLostError:
            log.warning("job %s: lease lost before parking", context.job.id)
            return
        log.debug("job %s parked for %.1f s", context.job.id, parked.delay)
        # This worker looks again when the job is due, whatever its poll interval.
        asyncio.get_running_loop().call_later(parked.delay, self._wake.set)

    async def _settle_failure(self, job: ClaimedJob, failure: JobFailure) -> None:
        if failure.code != "timeout" and failure.retryable and job.attempts < job.max_attempts:
            log.warning("job %s: %s (%s), retrying later", job.id, failure.message, failure.code)
            await self.queue.retry_later(job, failure)
        else:
            log.warning("job %s failed: %s (%s)", job.id, failure.message, failure.code)
            await self.queue.fail(job, failure)

    async def _heartbeat(self, context: JobContext, work: asyncio.Future[Any]) -> None:
        lease_every = self.queue.policy.lease_seconds / 3
        since_lease = 0.0
        while True:
            await asyncio.sleep(1.0)
            since_lease += 1.0
            try:
                if context.has_unpublished() or since_lease >= lease_every:
                    await context.beat()
                    since_lease = 0.0
                if context.stop_reason == CANCELLED:  # the partner cancelled it (``beat``)
                    work.cancel()
                    return
            except LeaseLostError:
                return
            except DATABASE_UNREACHABLE as exc:  # waited out its patience (``JobQueue``)
                log.warning("heartbeat for %s failed (%s)", context.job.id, brief(exc))
            except Exception:
                log.exception("heartbeat for %s failed", context.job.id)
