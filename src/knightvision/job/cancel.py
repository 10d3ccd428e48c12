"""Cancelling a job (``POST /api/v1/partner/jobs/<id>/cancel``, docs/api.md "Cancel").

A job no worker holds (queued, waiting to retry, or parked on an upstream render) ends at once in
``error`` with code ``cancelled``. A job a worker holds is marked: its ``error_code`` becomes
``cancelled`` while it is still unfinished, its worker learns it at the next heartbeat and stops
the job at its next frame or stage, and a worker that claims a marked job ends it at once
(``JobQueue.claim``). Either way the refund is ``ClaimedJob.cancel_refund``: all of it unless
an upstream task was already created (and so billed to us); then none.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update

from knightvision.credit import ledger
from knightvision.db.engine import write_transaction
from knightvision.db.schema import jobs
from knightvision.errors import JobFinishedError, JobNotFoundError
from knightvision.job.errors import CANCELLED
from knightvision.job.queue import EndedJob, JobQueue, cancelled_failure, error_values
from knightvision.job.status import JobStatus
from knightvision.job.upstream_billing import cancel_refund
from knightvision.kit.clock import utcnow


async def cancel_job(queue: JobQueue, account_id: int, job_id: str, kinds: Sequence[str]) -> str:
    """Cancel the account's job of one of ``kinds`` and return its kind. Cancelling a cancelled
    job again changes nothing; any other finished job is 409; another account's is 404. A job
    ended here gets its terminal event like any other (the queue's finish hook)."""
    now = utcnow()
    failure = cancelled_failure()
    async with write_transaction(queue.engine) as conn:
        query = select(
            jobs.c.kind,
            jobs.c.status,
            jobs.c.finished_at,
            jobs.c.error_code,
            jobs.c.checkpoint,
            jobs.c.credits_used,
        ).where(jobs.c.id == job_id, jobs.c.account_id == account_id, jobs.c.kind.in_(kinds))
        if (
            queue.engine.dialect.name == "postgresql"
        ):  # no claim slips between this read and the write
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise JobNotFoundError()
        if row.finished_at is not None:
            if row.status == JobStatus.ERROR and row.error_code == CANCELLED:
                return str(row.kind)
            raise JobFinishedError()
        refund = cancel_refund(row.checkpoint, row.credits_used)
        unfinished = (jobs.c.id == job_id) & jobs.c.finished_at.is_(None)
        unheld = or_(jobs.c.lease_token.is_(None), jobs.c.lease_expires_at < now)
        ended = await conn.execute(
            update(jobs).where(unfinished, unheld).values(error_values(failure, refund, now))
        )
        if ended.rowcount == 1:
            await ledger.refund(conn, account_id, refund, job_id, f"refund: {CANCELLED}", now)
            if queue.on_finish is not None:
                await queue.on_finish(conn, EndedJob(job_id, str(row.kind), account_id), False)
        else:  # a worker holds it: it stops the job at its next frame or stage
            await conn.execute(
                update(jobs).where(unfinished).values(error_code=CANCELLED, updated_at=now)
            )
    return str(row.kind)
