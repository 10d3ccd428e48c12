"""Fast pickup (ADR 0001): on PostgreSQL a worker in another process wakes on LISTEN/NOTIFY when a
job is submitted or handed back, instead of at its next poll; SQLite keeps polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.job.wakeups import RECONNECT_SECONDS, listener_conninfo
from knightvision.settings import Settings
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.job_queue import KIND, job_row, new_account, submit_job

# Far longer than any wait below: a job picked up in time was picked up by a notification.
SLOW_POLL = 60.0
LONG_LEASE = 60.0


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    with fresh_postgres_database() as url:
        async_url = Settings(database_url=url).async_database_url
        await asyncio.to_thread(upgrade, async_url)
        yield async_url


def new_queue(url: str) -> JobQueue:
    """Each worker and the submitter get their own engine, as separate processes would."""
    return JobQueue(create_engine(url), QueuePolicy(lease_seconds=LONG_LEASE, timeout_seconds=60))


async def started(queue: JobQueue, handler: Any, **options: Any) -> tuple[asyncio.Event, Any]:
    stop = asyncio.Event()
    runner = WorkerRunner(queue, {KIND: handler}, slots=1, poll_interval=SLOW_POLL, **options)
    task = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(0.5)  # its first claim (finding nothing) and its LISTEN are done
    return stop, task


async def until(condition: Any, within: float) -> float:
    began = time.monotonic()
    while not await condition():
        assert time.monotonic() - began < within, "not picked up in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - began


def test_only_postgresql_is_listened_to() -> None:
    sqlite = create_engine("sqlite+aiosqlite:///unused.db")
    assert listener_conninfo(sqlite.sync_engine.url) is None
    pg = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/kv")
    assert listener_conninfo(pg.sync_engine.url) == "postgresql://postgres@127.0.0.1:5432/kv"


async def test_a_submitted_job_wakes_an_idle_worker_in_another_process(pg_url: str) -> None:
    worker_queue, api_queue = new_queue(pg_url), new_queue(pg_url)
    ran: list[str] = []

    async def handler(context: JobContext) -> dict[str, Any]:
        ran.append(context.job.id)
        return {}

    stop, task = await started(worker_queue, handler)
    try:
        job_id = await submit_job(api_queue, await new_account(api_queue))

        async def finished() -> bool:
            return (await job_row(api_queue, job_id)).finished_at is not None

        await until(finished, within=5)
    finally:
        stop.set()
        await task
        await worker_queue.engine.dispose()
        await api_queue.engine.dispose()
    assert ran == [job_id]


async def test_without_listening_the_same_worker_waits_for_its_poll(pg_url: str) -> None:
    worker_queue, api_queue = new_queue(pg_url), new_queue(pg_url)

    async def handler(context: JobContext) -> dict[str, Any]:
        return {}

    stop, task = await started(worker_queue, handler, listen=False)
    try:
        job_id = await submit_job(api_queue, await new_account(api_queue))
        await asyncio.sleep(2)
        assert (await job_row(api_queue, job_id)).lease_token is None  # still waiting
    finally:
        stop.set()
        await task
        await worker_queue.engine.dispose()
        await api_queue.engine.dispose()


async def test_a_worker_that_stops_hands_its_job_to_another_at_once(pg_url: str) -> None:
    first_queue, second_queue = new_queue(pg_url), new_queue(pg_url)
    job_id = await submit_job(first_queue, await new_account(first_queue))
    holding = asyncio.Event()
    owners: list[str] = []

    async def long_job(context: JobContext) -> dict[str, Any]:
        owners.append(context.job.lease_token)
        holding.set()
        await asyncio.sleep(3600)
        return {}

    async def quick_job(context: JobContext) -> dict[str, Any]:
        owners.append(context.job.lease_token)
        return {"resumed": True}

    first_stop, first = await started(first_queue, long_job)
    await asyncio.wait_for(holding.wait(), 10)
    second_stop, second = await started(second_queue, quick_job)  # idle: its poll is a minute away
    try:
        first_stop.set()  # a clean stop (SIGTERM): the lease goes back now, not in a minute
        await first

        async def finished() -> bool:
            return (await job_row(second_queue, job_id)).finished_at is not None

        await until(finished, within=5)
    finally:
        second_stop.set()
        await second
        await first_queue.engine.dispose()
        await second_queue.engine.dispose()
    row = await job_row(second_queue, job_id)
    assert (row.status, row.result, row.attempts) == ("complete", {"resumed": True}, 1)
    assert len(owners) == 2 and owners[0] != owners[1]


async def test_the_listener_comes_back_after_its_connection_is_killed(pg_url: str) -> None:
    worker_queue, api_queue = new_queue(pg_url), new_queue(pg_url)

    async def handler(context: JobContext) -> dict[str, Any]:
        return {}

    stop, task = await started(worker_queue, handler)
    try:
        async with api_queue.engine.connect() as conn:  # what a database restart does to it
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
        assert killed == 1
        await asyncio.sleep(RECONNECT_SECONDS + 1)  # listening again, on a new connection
        job_id = await submit_job(api_queue, await new_account(api_queue))

        async def finished() -> bool:
            return (await job_row(api_queue, job_id)).finished_at is not None

        await until(finished, within=5)
    finally:
        stop.set()
        await task
        await worker_queue.engine.dispose()
        await api_queue.engine.dispose()
