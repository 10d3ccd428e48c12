"""The jobs table as a queue, on SQLite and PostgreSQL: leases, fencing, retries, refunds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from knightvision.account import admin
from knightvision.credit import ledger
from knightvision.db.engine import create_engine, write_transaction
from knightvision.db.migrate import upgrade
from knightvision.db.schema import jobs
from knightvision.job.errors import JobFailure
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.settings import Settings
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner

KIND = "test.job"
COST = 7


@pytest.fixture
async def queue(backend_url: str) -> AsyncIterator[JobQueue]:
    async_url = Settings(database_url=backend_url).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    yield JobQueue(engine, QueuePolicy(lease_seconds=2, max_attempts=3, timeout_seconds=60))
    await engine.dispose()


async def _account(queue: JobQueue, credits: int = 100) -> int:
    return (await admin.create_account(queue.engine, f"acct-{new_job_id(utcnow())}", credits))[
        "account_id"
    ]


async def _submit(queue: JobQueue, account_id: int, params: dict[str, Any] | None = None) -> str:
    now = utcnow()
    job_id = new_job_id(now, "local")
    async with write_transaction(queue.engine) as conn:
        await ledger.debit(conn, account_id, COST, job_id, "test", now)
        await queue.enqueue(
            conn,
            job_id=job_id,
            account_id=account_id,
            kind=KIND,
            status="queued",
            message="queued",
            params=params or {},
            credits_used=COST,
            now=now,
        )
    return job_id


async def _row(queue: JobQueue, job_id: str) -> Any:
    async with queue.engine.connect() as conn:
        return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one()


async def _balance(queue: JobQueue, account_id: int) -> tuple[int, int]:
    async with queue.engine.connect() as conn:
        return await ledger.balance(conn, account_id), await ledger.ledger_sum(conn, account_id)


async def test_claim_complete_and_fencing(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    job = await queue.claim("w1", [KIND])
    assert job is not None and job.id == job_id and job.attempts == 1
    assert await queue.claim("w2", [KIND]) is None  # leased: nobody else gets it
    assert await queue.complete(job, {"ok": True})
    assert not await queue.complete(job, {"ok": "again"})  # a finished job never changes again
    row = await _row(queue, job_id)
    assert (row.status, row.result, row.progress, row.lease_token) == (
        "complete",
        {"ok": True},
        100,
        None,
    )
    assert await _balance(queue, account) == (100 - COST, 100 - COST)


async def test_expired_lease_is_reclaimed_and_old_owner_is_fenced_out(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    first = await queue.claim("w1", [KIND])
    assert first is not None
    async with write_transaction(queue.engine) as conn:  # the first worker stalls past its lease
        await conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    second = await queue.claim("w2", [KIND])
    assert second is not None and second.id == job_id and second.attempts == 2
    assert not await queue.heartbeat(first)
    assert not await queue.complete(first, {"by": "w1"})
    assert not await queue.fail(first, JobFailure("boom", "boom"))
    assert await queue.complete(second, {"by": "w2"})
    row = await _row(queue, job_id)
    assert row.result == {"by": "w2"} and row.credits_refunded == 0


async def test_failure_refunds_exactly_once(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    job = await queue.claim("w1", [KIND])
    assert await queue.fail(job, JobFailure("upstream_rejected", "no", stage="generating"))
    assert not await queue.fail(job, JobFailure("upstream_rejected", "no"))
    row = await _row(queue, job_id)
    assert (row.status, row.error_code, row.failed_stage, row.credits_refunded) == (
        "error",
        "upstream_rejected",
        "generating",
        COST,
    )
    assert await _balance(queue, account) == (100, 100)
    async with write_transaction(
        queue.engine
    ) as conn:  # the database itself refuses a second refund
        assert not await ledger.refund(conn, account, COST, job_id, "again", utcnow())
    assert await _balance(queue, account) == (100, 100)


async def test_crashed_attempts_end_in_worker_lost_with_refund(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    for attempt in range(1, 4):
        job = await queue.claim(f"w{attempt}", [KIND])
        assert job is not None and job.attempts == attempt
        async with write_transaction(queue.engine) as conn:  # the worker dies holding the lease
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
    assert await queue.claim("w4", [KIND]) is None
    row = await _row(queue, job_id)
    assert (row.status, row.error_code, row.credits_refunded) == ("error", "worker_lost", COST)
    assert await _balance(queue, account) == (100, 100)


async def test_job_past_its_deadline_fails_with_refund(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    async with write_transaction(queue.engine) as conn:
        await conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(deadline_at=utcnow() - timedelta(seconds=1))
        )
    assert await queue.claim("w1", [KIND]) is None
    row = await _row(queue, job_id)
    assert (row.status, row.error_code, row.credits_refunded) == ("error", "timeout", COST)


async def test_concurrent_claimers_never_share_a_job(queue: JobQueue) -> None:
    account = await _account(queue, credits=COST * 40)
    submitted = {await _submit(queue, account) for _ in range(40)}
    claimed: list[str] = []

    async def claimer(name: str) -> None:
        while (job := await queue.claim(name, [KIND])) is not None:
            claimed.append(job.id)
            assert await queue.complete(job, {"by": name})

    await asyncio.gather(*(claimer(f"w{n}") for n in range(6)))
    assert sorted(claimed) == sorted(submitted)


async def _run_until_finished(queue: JobQueue, handler, job_ids: list[str], slots: int = 2) -> None:
    runner = WorkerRunner(queue, {KIND: handler}, slots=slots, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    for _ in range(400):
        rows = [await _row(queue, job_id) for job_id in job_ids]
        if all(row.finished_at is not None for row in rows):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task


async def test_runner_retries_retryable_failures_then_succeeds(
    queue: JobQueue, monkeypatch
) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)
    account = await _account(queue)
    job_id = await _submit(queue, account)
    calls: list[int] = []

    async def flaky(context: JobContext) -> dict[str, Any]:
        calls.append(context.job.attempts)
        if len(calls) < 3:
            raise JobFailure("upstream_unavailable", "try again", retryable=True)
        return {"attempts": context.job.attempts}

    await _run_until_finished(queue, flaky, [job_id])
    row = await _row(queue, job_id)
    assert calls == [1, 2, 3]
    assert (row.status, row.result, row.credits_refunded) == ("complete", {"attempts": 3}, 0)
    assert "upstream_unavailable" in row.last_error


async def test_runner_gives_up_after_max_attempts_and_refunds(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)
    account = await _account(queue)
    job_id = await _submit(queue, account)

    async def always_down(context: JobContext) -> dict[str, Any]:
        raise JobFailure("upstream_unavailable", "down", retryable=True, stage="generating")

    await _run_until_finished(queue, always_down, [job_id])
    row = await _row(queue, job_id)
    assert (row.status, row.attempts, row.error_code, row.retryable, row.credits_refunded) == (
        "error",
        3,
        "upstream_unavailable",
        True,
        COST,
    )
    assert await _balance(queue, account) == (100, 100)


async def test_runner_turns_crashes_into_internal_errors_and_keeps_going(
    queue: JobQueue, monkeypatch
) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.01)
    account = await _account(queue)
    broken, healthy = await _submit(queue, account, {"crash": True}), await _submit(queue, account)

    async def handler(context: JobContext) -> dict[str, Any]:
        if context.params.get("crash"):
            raise ZeroDivisionError("bug")
        return {"fine": True}

    await _run_until_finished(queue, handler, [broken, healthy])
    assert (await _row(queue, broken)).error_code == "internal_error"
    assert (await _row(queue, healthy)).status == "complete"
    assert await _balance(queue, account) == (100 - COST, 100 - COST)


async def test_progress_and_checkpoints_survive_a_retry(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.01)
    account = await _account(queue)
    job_id = await _submit(queue, account)
    stages_run: list[str] = []

    async def staged(context: JobContext) -> dict[str, Any]:
        if "first" not in context.checkpoint:
            stages_run.append("first")
            await context.report(status="processing", message="first stage", progress=40)
            await context.save_checkpoint(first="done")
            raise JobFailure("upstream_unavailable", "blip", retryable=True)
        stages_run.append("second")
        return {"first": context.checkpoint["first"]}

    await _run_until_finished(queue, staged, [job_id])
    row = await _row(queue, job_id)
    assert stages_run == ["first", "second"]
    assert (row.status, row.result, row.checkpoint) == (
        "complete",
        {"first": "done"},
        {"first": "done"},
    )


async def test_shutdown_hands_the_job_back_without_counting_the_attempt(queue: JobQueue) -> None:
    account = await _account(queue)
    job_id = await _submit(queue, account)
    started = asyncio.Event()

    async def slow(context: JobContext) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(60)
        return {}

    runner = WorkerRunner(queue, {KIND: slow}, slots=1, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await task
    row = await _row(queue, job_id)
    assert (row.finished_at, row.lease_token, row.attempts) == (None, None, 0)
    resumed = await queue.claim("w2", [KIND])
    assert resumed is not None and resumed.id == job_id
