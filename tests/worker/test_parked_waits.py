"""Parked upstream waits (ADR 0001), on SQLite and PostgreSQL against a fake EvoLink on loopback:
a job waiting on an upstream render holds no worker slot and no lease, any worker re-polls it when
due, and it never creates its upstream task twice."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from knightvision.db.schema import jobs
from knightvision.job.queue import JobQueue
from knightvision.kit.clock import utcnow
from knightvision.providers.video_model.port import GenerationError
from knightvision.providers.video_model.upstream_http import (
    PollCursor,
    RateLimited,
    TaskState,
    poll_until_done,
)
from tests.fakes.evolink import FakeEvoLink
from tests.fixtures.job_queue import balances, job_row, new_account
from tests.worker.upstream_jobs import (
    PARKING_POLICY,
    VIDEO_COST,
    finished_count,
    submit_videos,
    video_worker,
    wait_for,
)

RENDERS = 200


async def leased_count(queue: JobQueue) -> int:
    async with queue.engine.connect() as conn:
        rows = await conn.scalars(select(jobs.c.id).where(jobs.c.lease_token.is_not(None)))
        return len(rows.all())


async def test_one_worker_with_two_slots_oversees_hundreds_of_upstream_renders(
    queue: JobQueue, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    account = await new_account(queue, credits=VIDEO_COST * RENDERS)
    job_ids = await submit_videos(queue, account, RENDERS)
    evolink.script.never_finish = True
    worker = video_worker(queue, evolink, tmp_path / "media", slots=2)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        # Every render is started while none has finished: the waits hold no slot.
        await wait_for(lambda: evolink.tasks_created == RENDERS, 90, "every upstream create")
        polled = evolink.poll_calls
        await wait_for(lambda: evolink.poll_calls >= polled + RENDERS, 60, "a round of re-polls")
        assert await leased_count(queue) <= 2  # only the jobs on a slot right now hold a lease
        assert await finished_count(queue) == 0

        evolink.script.never_finish = False
        evolink.script.polls_to_finish = 0
        await wait_for(
            lambda: _all_finished(queue, RENDERS), 120, "every render delivered and stored"
        )
    finally:
        stop.set()
        await running

    assert evolink.create_calls == evolink.tasks_created == RENDERS  # no second create, ever
    for job_id in job_ids[:: RENDERS // 10]:
        row = await job_row(queue, job_id)
        assert (row.status, row.attempts, row.credits_refunded) == ("complete", 1, 0)
        assert row.result["provenance"]["upstream_task_id"] in evolink.tasks
        assert (tmp_path / "media" / "videos" / f"{job_id}.mp4").stat().st_size > 0
    assert await balances(queue, account) == (0, 0)


async def _all_finished(queue: JobQueue, count: int) -> bool:
    return await finished_count(queue) == count


async def test_a_parked_job_survives_its_worker_and_resumes_the_poll_elsewhere(
    queue: JobQueue, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    account = await new_account(queue)
    (job_id,) = await submit_videos(queue, account, 1)
    evolink.script.never_finish = True
    first = video_worker(queue, evolink, tmp_path / "media")
    stop = asyncio.Event()
    running = asyncio.create_task(first.run(stop))
    await wait_for(lambda: evolink.poll_calls >= 3, 30, "three polls of the task")
    stop.set()  # the worker process goes away while the job waits on the upstream
    await running

    parked = await job_row(queue, job_id)
    task = parked.checkpoint["adapter.upstream_task"]
    assert parked.finished_at is None and parked.lease_token is None
    assert parked.checkpoint["adapter.upstream_poll"]["task_id"] == task["task_id"]
    assert parked.attempts == 0  # waiting is not an attempt
    assert parked.checkpoint["parks"] >= 2
    assert (parked.status, parked.message) == ("processing", "Generating video...")

    evolink.script.never_finish = False
    evolink.script.polls_to_finish = 0
    polls_before = evolink.poll_calls
    second = video_worker(queue, evolink, tmp_path / "media")  # a new process, a new adapter
    stop = asyncio.Event()
    running = asyncio.create_task(second.run(stop))
    try:
        await wait_for(lambda: _all_finished(queue, 1), 30, "the job to finish")
    finally:
        stop.set()
        await running

    row = await job_row(queue, job_id)
    assert (row.status, row.attempts) == ("complete", 1)
    assert row.result["provenance"]["upstream_task_id"] == task["task_id"]
    assert evolink.create_calls == evolink.tasks_created == 1
    assert evolink.poll_calls > polls_before
    assert await balances(queue, account) == (100 - VIDEO_COST, 100 - VIDEO_COST)


async def test_the_upstream_timeout_still_ends_a_parked_job_with_a_refund(
    queue: JobQueue, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    account = await new_account(queue)
    (job_id,) = await submit_videos(queue, account, 1)
    evolink.script.never_finish = True
    policy = replace(PARKING_POLICY, poll_initial=0.2, poll_max=0.4, timeout=2.0)
    worker = video_worker(queue, evolink, tmp_path / "media", policy=policy)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    started = utcnow()
    try:
        await wait_for(lambda: _all_finished(queue, 1), 30, "the job to time out")
    finally:
        stop.set()
        await running

    row = await job_row(queue, job_id)
    assert (row.status, row.error_code, row.failed_stage) == (
        "error",
        "upstream_timeout",
        "generating",
    )
    assert row.credits_refunded == VIDEO_COST
    assert await balances(queue, account) == (100, 100)
    assert evolink.create_calls == 1 and evolink.poll_calls >= 4  # parked between those polls
    # The cap counts from submission, across parks: not one park's length, not the job's limit.
    assert 2.0 <= (row.finished_at - started).total_seconds() < 30  # the job limit is 60 s


class _Parked(Exception):
    def __init__(self, seconds: float, cursor: PollCursor) -> None:
        self.seconds, self.cursor = seconds, cursor


async def test_a_parked_poll_loop_keeps_the_cadence_of_one_that_sleeps() -> None:
    """Growing intervals, the upstream's poll hint, a 429's Retry-After and the tolerance of
    transient errors come out the same whether the loop sleeps or parks between polls."""
    policy = replace(
        PARKING_POLICY, poll_initial=1.0, poll_max=4.0, poll_factor=2.0, max_rate_limit_wait=10.0
    )
    answers: list[Any] = [
        TaskState("running"),
        TaskState("running", poll_after=2.5),
        RateLimited("evolink", 7.0),
        GenerationError("upstream_unavailable", "502", retryable=True),
        TaskState("running", progress=0.5),
        GenerationError("upstream_unavailable", "502", retryable=True),
        TaskState("running"),
        TaskState("succeeded", result_url="http://example.invalid/v.mp4"),
    ]

    def script() -> Any:
        remaining = list(answers)

        async def fetch() -> TaskState:
            answer = remaining.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer  # type: ignore[no-any-return]

        return fetch

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    common: dict[str, Any] = {
        "provider": "evolink",
        "deadline": 1e9,
        "clock": lambda: 0.0,
        "policy": policy,
        "on_progress": lambda p: None,
        "first_wait": policy.poll_initial,
    }
    in_place = await poll_until_done(script(), sleep=sleep, **common)

    async def park(seconds: float, cursor: PollCursor) -> None:
        raise _Parked(seconds, cursor)

    parked: list[float] = []
    fetch, cursor = script(), None
    while True:
        try:
            # Each run is a new process: only the cursor carries over, as JSON.
            done = await poll_until_done(fetch, sleep=sleep, cursor=cursor, park=park, **common)
            break
        except _Parked as stop:
            parked.append(stop.seconds)
            assert len(parked) < 20, "the parked loop does not advance"
            cursor = PollCursor.from_json(json.loads(json.dumps(stop.cursor.to_json())))
    assert parked == slept == [1.0, 1.0, 2.5, 7.0, 4.0, 4.0, 4.0, 4.0]
    assert done.status == in_place.status == "succeeded"
