"""Cancelling a video job waiting on an upstream render (parked, ADR 0001), on SQLite and
PostgreSQL against a fake EvoLink on loopback. EvoLink documents no cancel endpoint, so the
render it already started is billed: the job ends at once, ``cancelled``, with no refund and
``upstream_billed: true``; a job cancelled before its upstream task exists is refunded in full."""

from __future__ import annotations

import asyncio
from pathlib import Path

from knightvision.job.cancel import cancel_job
from knightvision.job.queue import JobQueue
from knightvision.job.views import lifecycle_fields
from knightvision.video.service import VIDEO_JOB_KIND
from tests.fakes.evolink import FakeEvoLink
from tests.fixtures.job_queue import balances, job_row, new_account
from tests.worker.upstream_jobs import VIDEO_COST, submit_videos, video_worker, wait_for


async def _parked(queue: JobQueue, job_id: str) -> bool:
    row = await job_row(queue, job_id)
    return row.lease_token is None and bool((row.checkpoint or {}).get("adapter.upstream_task"))


async def test_cancel_during_a_parked_upstream_wait(
    queue: JobQueue, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    account = await new_account(queue, credits=VIDEO_COST * 2)
    waiting, queued = await submit_videos(queue, account, 2)
    await cancel_job(queue, account, queued, [VIDEO_JOB_KIND])  # before any worker
    evolink.script.never_finish = True
    worker = video_worker(queue, evolink, tmp_path / "media", slots=1)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await wait_for(lambda: _parked(queue, waiting), 60, "the render to be parked upstream")
        await cancel_job(queue, account, waiting, [VIDEO_JOB_KIND])
        cancelled = await job_row(queue, waiting)
        polls = evolink.poll_calls
        evolink.script.never_finish = False  # were it still polled, it would now complete
        evolink.script.polls_to_finish = 0
        await asyncio.sleep(1.5)  # several of its poll intervals (PARKING_POLICY)
    finally:
        stop.set()
        await running

    assert evolink.tasks_created == 1  # the queued job never reached the upstream
    assert evolink.poll_calls == polls  # nobody waits on a cancelled job's render
    view = lifecycle_fields(await job_row(queue, waiting))
    assert lifecycle_fields(cancelled) == view  # ended at once, and stays so
    assert (view["status"], view["error_code"]) == ("error", "cancelled")
    assert (view["credits_refunded"], view["upstream_billed"]) == (0, True)
    early = lifecycle_fields(await job_row(queue, queued))
    assert (early["error_code"], early["credits_refunded"]) == ("cancelled", VIDEO_COST)
    assert early["upstream_billed"] is False
    assert await balances(queue, account) == (VIDEO_COST, VIDEO_COST)
