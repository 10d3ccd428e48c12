"""The jobs table as a queue, on SQLite and PostgreSQL: leases, fencing, retries, refunds."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from knightvision.credit import ledger
from knightvision.db.engine import write_transaction
from knightvision.db.schema import jobs
from knightvision.job.errors import JobFailure
from knightvision.job.queue import JobQueue
from knightvision.kit.clock import utcnow
from tests.fixtures.job_queue import (
    COST,
    KIND,
    balances,
    job_row,
    new_account,
    submit_job,
)


async def test_claim_complete_and_fencing(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    job = await queue.claim("w1", [KIND])
    assert job is not None and job.id == job_id and job.attempts == 1
    assert await queue.claim("w2", [KIND]) is None  # leased: nobody else gets it
    assert await queue.complete(job, {"ok": True})
    assert not await queue.complete(job, {"ok": "again"})  # a finished job never changes again
    row = await job_row(queue, job_id)
    assert (row.status, row.result, row.progress, row.lease_token) == (
        "complete",
        {"ok": True},
        100,
        None,
    )
    assert await balances(queue, account) == (100 - COST, 100 - COST)


async def test_expired_lease_is_reclaimed_and_old_owner_is_fenced_out(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
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
    row = await job_row(queue, job_id)
    assert row.result == {"by": "w2"} and row.credits_refunded == 0


async def test_failure_refunds_exactly_once(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    job = await queue.claim("w1", [KIND])
    assert await queue.fail(job, JobFailure("upstream_rejected", "no", stage="generating"))
    assert not await queue.fail(job, JobFailure("upstream_rejected", "no"))
    row = await job_row(queue, job_id)
    assert (row.status, row.error_code, row.failed_stage, row.credits_refunded) == (
        "error",
        "upstream_rejected",
        "generating",
        COST,
    )
    assert await balances(queue, account) == (100, 100)
    async with write_transaction(
        queue.engine
    ) as conn:  # the database itself refuses a second refund
        assert not await ledger.refund(conn, account, COST, job_id, "again", utcnow())
    assert await balances(queue, account) == (100, 100)


async def test_crashed_attempts_end_in_worker_lost_with_refund(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
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
    row = await job_row(queue, job_id)
    assert (row.status, row.error_code, row.credits_refunded) == ("error", "worker_lost", COST)
    assert await balances(queue, account) == (100, 100)


async def test_job_past_its_deadline_fails_with_refund(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    async with write_transaction(queue.engine) as conn:
        await conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(deadline_at=utcnow() - timedelta(seconds=1))
        )
    assert await queue.claim("w1", [KIND]) is None
    row = await job_row(queue, job_id)
    assert (row.status, row.error_code, row.credits_refunded) == ("error", "timeout", COST)


async def test_concurrent_claimers_never_share_a_job(queue: JobQueue) -> None:
    account = await new_account(queue, credits=COST * 40)
    submitted = {await submit_job(queue, account) for _ in range(40)}
    claimed: list[str] = []

    async def claimer(name: str) -> None:
        while (job := await queue.claim(name, [KIND])) is not None:
            claimed.append(job.id)
            assert await queue.complete(job, {"by": name})

    await asyncio.gather(*(claimer(f"w{n}") for n in range(6)))
    assert sorted(claimed) == sorted(submitted)
