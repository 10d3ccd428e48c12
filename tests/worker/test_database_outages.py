"""A database that goes away under a running job (ADR 0004): the job's writes wait for it, so the
job completes on its first attempt once it is back, its work done once; a database away for
longer than the queue's patience leaves the job to its lease, without a crash. PostgreSQL behind
a TCP proxy these tests cut (``tests.fixtures.outages``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from knightvision.db.engine import create_engine
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.settings import Settings
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.job_queue import KIND, job_row, new_account, submit_job
from tests.fixtures.outages import TcpProxy, postgres_behind_proxy


@pytest.fixture
async def proxied() -> AsyncIterator[tuple[str, TcpProxy]]:
    async with postgres_behind_proxy() as (url, proxy):
        yield Settings(database_url=url).async_database_url, proxy


async def test_a_job_whose_database_goes_away_mid_run_completes_on_its_first_attempt(
    proxied: tuple[str, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied
    queue = JobQueue(create_engine(url), QueuePolicy(lease_seconds=30, timeout_seconds=60))
    job_id = await submit_job(queue, await new_account(queue))
    running, resume = asyncio.Event(), asyncio.Event()
    work_done = []

    async def render(context: JobContext) -> dict[str, Any]:
        await context.report(progress=10)
        running.set()
        await resume.wait()
        work_done.append(context.job.attempts)
        await context.report(progress=90)  # the database is away: this waits for it
        await context.save_checkpoint(rendered=True)
        return {"rendered": True}

    runner = WorkerRunner(queue, {KIND: render}, slots=1, poll_interval=0.05, listen=False)
    stop = asyncio.Event()
    worker = asyncio.create_task(runner.run(stop))
    try:
        await asyncio.wait_for(running.wait(), 10)
        await proxy.cut()
        resume.set()
        await asyncio.sleep(1.5)  # its writes meet a database that is not there
        await proxy.restore()
        for _ in range(150):  # well within the 30 s lease: the job was never given up
            if (await job_row(queue, job_id)).finished_at is not None:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await worker
        await queue.engine.dispose()
    row = await job_row(queue, job_id)
    assert (row.status, row.attempts, row.progress, row.checkpoint) == (
        "complete",
        1,
        100,
        {"rendered": True},
    )
    assert work_done == [1]
    assert "database unreachable, trying again" in caplog.text
    assert "crashed" not in caplog.text


async def test_a_database_away_past_the_patience_leaves_the_job_to_its_lease(
    proxied: tuple[str, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied
    policy = QueuePolicy(lease_seconds=2, timeout_seconds=60, outage_patience_seconds=0.5)
    queue = JobQueue(create_engine(url), policy)
    job_id = await submit_job(queue, await new_account(queue))
    job = await queue.claim("first-worker", [KIND])
    assert job is not None and job.id == job_id

    async def render(context: JobContext) -> dict[str, Any]:
        await proxy.cut()  # gone before the result can be written
        return {"rendered": True}

    runner = WorkerRunner(queue, {KIND: render}, slots=1, poll_interval=0.05, listen=False)
    try:
        await runner.execute(job)  # returns: no job task dies with the database's error
        assert "left to its lease" in caplog.text
        await proxy.restore()
        row = await job_row(queue, job_id)
        assert (row.finished_at, row.lease_owner, row.attempts) == (None, "first-worker", 1)
        await asyncio.sleep(policy.lease_seconds + 0.2)
        resumed = await queue.claim("next-worker", [KIND])
        assert resumed is not None and (resumed.id, resumed.attempts) == (job_id, 2)
    finally:
        await queue.engine.dispose()


async def test_a_worker_stopping_while_the_database_is_away_does_not_wait_for_it(
    proxied: tuple[str, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    url, proxy = proxied
    queue = JobQueue(create_engine(url), QueuePolicy(lease_seconds=30, timeout_seconds=60))
    job_id = await submit_job(queue, await new_account(queue))
    running = asyncio.Event()

    async def render(context: JobContext) -> dict[str, Any]:
        running.set()
        await proxy.cut()
        await context.report(progress=50)  # waits for the database, until the worker stops
        return {}

    runner = WorkerRunner(queue, {KIND: render}, slots=1, poll_interval=0.05, listen=False)
    stop = asyncio.Event()
    worker = asyncio.create_task(runner.run(stop))
    try:
        await asyncio.wait_for(running.wait(), 10)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(worker, 5)  # not the minute its writes would wait
        assert "left to its lease" in caplog.text
        await proxy.restore()
        row = await job_row(queue, job_id)
        assert (row.finished_at, row.lease_owner is not None) == (None, True)
    finally:
        await queue.engine.dispose()
