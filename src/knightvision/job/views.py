"""Every job's partner-facing view (D13): the columns it reads, its lifecycle fields, the status
read by id, and the reply to a submission."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.db.hot_reads import HotReads, OneRowQuery
from knightvision.db.pages import UnknownCursor, after_cursor
from knightvision.db.schema import jobs
from knightvision.errors import InvalidCursorError, InvalidJobIdError, JobNotFoundError
from knightvision.job.errors import CANCELLED
from knightvision.job.status import JobStatus
from knightvision.kit.clock import format_wire

# What a partner-facing job view reads (``lifecycle_fields`` plus the kind's params and result).
VIEW_COLUMNS = (
    jobs.c.id,
    jobs.c.status,
    jobs.c.message,
    jobs.c.progress,
    jobs.c.params,
    jobs.c.result,
    jobs.c.error,
    jobs.c.error_code,
    jobs.c.failed_stage,
    jobs.c.retryable,
    jobs.c.credits_used,
    jobs.c.credits_refunded,
    jobs.c.created_at,
    jobs.c.finished_at,
)


def present(view: dict[str, Any]) -> dict[str, Any]:
    """Fields that do not apply are absent, not null (D13)."""
    return {name: value for name, value in view.items() if value is not None}


def lifecycle_fields(row: Any) -> dict[str, Any]:
    """What every job shows: where it is, what it cost, and how it failed if it did."""
    view: dict[str, Any] = {
        "job_id": row.id,
        "status": row.status,
        "message": row.message,
        "progress": row.progress,
        "credits_used": row.credits_used,
        "credits_refunded": row.credits_refunded,
        "created_at": format_wire(row.created_at),
        "finished_at": format_wire(row.finished_at),
    }
    if row.status == JobStatus.ERROR:
        view.update(
            error=row.error,
            error_code=row.error_code,
            failed_stage=row.failed_stage,
            retryable=row.retryable,
        )
        if row.error_code == CANCELLED:  # what cancelling refunded (docs/api.md "Cancel")
            view["upstream_billed"] = row.credits_refunded < row.credits_used
    return view


def queued_reply(job_id: str, cost: int, remaining: int) -> dict[str, Any]:
    """The answer to a paid submission that queued a job."""
    return {
        "job_id": job_id,
        "status": JobStatus.QUEUED,
        "credits_used": cost,
        "credits_remaining": remaining,
    }


# Stores a submit's reply inside the transaction that creates its job (an idempotency record).
ReplyRecorder = Callable[[AsyncConnection, dict[str, Any]], Awaitable[None]]


def record_queued_reply(
    record_reply: ReplyRecorder | None, job_id: str, cost: int
) -> Callable[[AsyncConnection, int], Awaitable[None]] | None:
    """What ``JobQueue.submit_paid`` runs in its transaction so the reply is recorded with the
    job: ``queued_reply`` with the balance left."""
    if record_reply is None:
        return None
    recorder = record_reply

    async def record(conn: AsyncConnection, remaining: int) -> None:
        await recorder(conn, queued_reply(job_id, cost, remaining))

    return record


async def view_row(conn: AsyncConnection, job_id: str) -> Any:
    """A job's view columns inside a caller's transaction (the event written as it ends)."""
    return (await conn.execute(select(*VIEW_COLUMNS).where(jobs.c.id == job_id))).one()


class JobStatusReads:
    """One partner's job of one kind by id: the most polled read of the API, so a hot-path read
    (ADR 0003). A malformed id is 400, another account's or kind's job is 404 like a missing one."""

    def __init__(self, reads: HotReads, kind: str, is_job_id: Callable[[str], bool]) -> None:
        self.reads = reads
        self.is_job_id = is_job_id
        self.query = OneRowQuery(
            select(*VIEW_COLUMNS).where(
                jobs.c.id == bindparam("job_id"),
                jobs.c.account_id == bindparam("account_id"),
                jobs.c.kind == kind,
            )
        )

    async def row(self, account_id: int, job_id: str) -> Any:
        if not self.is_job_id(job_id):
            raise InvalidJobIdError(param="job_id")
        row = await self.reads.first(self.query, {"job_id": job_id, "account_id": account_id})
        if row is None:
            raise JobNotFoundError()
        return row


async def job_page(
    engine: AsyncEngine, account_id: int, kind: str, limit: int, starting_after: str | None
) -> tuple[Sequence[Any], bool]:
    """One page of an account's jobs of one kind, newest first, and whether more follow; a
    ``starting_after`` that names none of them is 400 ``invalid_starting_after``."""
    scope = (jobs.c.account_id == account_id) & (jobs.c.kind == kind)
    async with engine.connect() as conn:
        try:
            return await after_cursor(
                conn,
                select(*VIEW_COLUMNS).where(scope),
                jobs.c.created_at,
                jobs.c.id,
                starting_after,
                limit,
                scope,
            )
        except UnknownCursor:
            raise InvalidCursorError() from None
