"""Helpers for the worker tests: a paid job on a real queue, and its row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from knightvision.account import admin
from knightvision.db.schema import jobs
from knightvision.job.queue import ClaimedJob, JobQueue
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id

KIND = "test.job"
COST = 7


async def enqueue(queue: JobQueue, params: dict[str, Any] | None = None) -> str:
    """A paid job of ``KIND`` for a new account."""
    account = await admin.create_account(queue.engine, f"acct-{new_job_id(utcnow())}", 100)
    job_id = new_job_id(utcnow(), "local")
    await queue.submit_paid(
        job_id=job_id,
        account_id=account["account_id"],
        kind=KIND,
        params=params or {},
        cost=COST,
        reason="test",
    )
    return job_id


async def claim(queue: JobQueue, params: dict[str, Any] | None = None) -> ClaimedJob:
    job_id = await enqueue(queue, params)
    job = await queue.claim("test-worker", [KIND])
    assert job is not None and job.id == job_id
    return job


async def job_row(queue: JobQueue, job_id: str) -> Any:
    async with queue.engine.connect() as conn:
        return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one()
