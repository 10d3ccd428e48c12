"""How a running job stops (shutdown, cancel), with real runners on SQLite and PostgreSQL: a job
of two stages, the first checkpointed, the second a loop in a thread reporting progress per
"frame" as the renderer does. Stopped mid-loop, the thread stops at its next frame; a stopped
worker hands the job back without counting the attempt and the next worker resumes after the
checkpointed stage; a cancelled job ends ``cancelled`` with a full refund."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from knightvision.job.cancel import cancel_job
from knightvision.job.queue import JobQueue
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.job_queue import COST, KIND, balances, job_row, new_account, submit_job
from tests.worker.upstream_jobs import wait_for

FRAMES = 100_000  # far more than any test lets run


class TwoStageJob:
    def __init__(self) -> None:
        self.first_stage_runs = 0
        self.frames = 0
        self.thread_ended = threading.Event()

    async def __call__(self, context: JobContext) -> dict[str, Any]:
        if "first" not in context.checkpoint:
            self.first_stage_runs += 1
            await context.save_checkpoint(first="done")
        await context.report(progress=10)  # a stage boundary
        await asyncio.to_thread(self._frames, context)
        return {"frames": self.frames}

    def _frames(self, context: JobContext) -> None:
        try:
            for frame in range(FRAMES):
                context.progress_from_thread(frame / FRAMES)
                self.frames += 1
                time.sleep(0.01)
        finally:
            self.thread_ended.set()


def _runner(queue: JobQueue, job: TwoStageJob) -> WorkerRunner:
    return WorkerRunner(queue, {KIND: job}, slots=1, poll_interval=0.05, listen=False)


async def _start(queue: JobQueue, job: TwoStageJob) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    running = asyncio.create_task(_runner(queue, job).run(stop))
    await wait_for(lambda: job.frames >= 20, 30, "the job's frames to be running")
    return stop, running


async def test_a_stopped_worker_stops_the_frames_and_the_next_resumes_after_the_checkpoint(
    queue: JobQueue,
) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    first = TwoStageJob()
    stop, running = await _start(queue, first)

    stop.set()
    await running
    assert await asyncio.to_thread(first.thread_ended.wait, 1.0)  # the next frame, not the end
    handed_back = await job_row(queue, job_id)
    assert handed_back.lease_token is None and handed_back.attempts == 0
    assert handed_back.checkpoint["first"] == "done" and handed_back.finished_at is None

    second = TwoStageJob()
    second_stop = asyncio.Event()
    resumed = asyncio.create_task(_runner(queue, second).run(second_stop))
    await wait_for(lambda: second.frames >= 5, 30, "the second worker to resume")
    second_stop.set()
    await resumed
    assert (first.first_stage_runs, second.first_stage_runs) == (1, 0)  # resumed after stage 1
    assert await balances(queue, account) == (100 - COST, 100 - COST)


async def test_a_cancelled_running_job_stops_at_its_next_frame_with_a_full_refund(
    queue: JobQueue,
) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    job = TwoStageJob()
    stop, running = await _start(queue, job)
    try:
        await cancel_job(queue, account, job_id, [KIND])
        marked = await job_row(queue, job_id)
        assert marked.finished_at is None and marked.error_code == "cancelled"  # a request
        await wait_for(lambda: _finished(queue, job_id), 15, "the worker to end the job")
    finally:
        stop.set()
        await running
    assert await asyncio.to_thread(job.thread_ended.wait, 1.0)
    row = await job_row(queue, job_id)
    assert (row.status, row.error_code, row.retryable) == ("error", "cancelled", False)
    assert row.credits_refunded == COST and job.frames < FRAMES
    assert await balances(queue, account) == (100, 100)
    await cancel_job(queue, account, job_id, [KIND])  # again: nothing changes
    assert await balances(queue, account) == (100, 100)


async def _finished(queue: JobQueue, job_id: str) -> bool:
    return (await job_row(queue, job_id)).finished_at is not None
