"""The jobs table as a queue: claim with a lease, heartbeat, fenced writes, retry, reclaim.

Semantics follow Solid Queue / GoodJob / Oban: a worker claims a job by writing a lease (owner,
random token, expiry) and then extends it by heartbeats. Every later write by that worker is
fenced on the token, so a worker whose lease expired (paused, partitioned, killed) can never
overwrite the job once another worker holds it. A job whose lease expires is claimable again; a
job that exhausted its attempts, or ran past its deadline, ends in ``error`` with a refund.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.credit import ledger
from knightvision.db.engine import write_transaction
from knightvision.db.outages import settled_transaction, through_outages
from knightvision.db.schema import jobs
from knightvision.job.errors import CANCELLED, JobFailure
from knightvision.job.status import JobStatus
from knightvision.job.upstream_billing import cancel_refund
from knightvision.job.wakeups import announce
from knightvision.kit.backoff import retry_delay
from knightvision.kit.clock import utcnow


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    account_id: int
    params: dict[str, Any]
    checkpoint: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: str
    credits_used: int
    deadline_at: datetime
    # What the partner sees now: a resumed job never shows less progress, nor rewrites the same.
    progress: int = 0
    status: str | None = None
    message: str | None = None
    cancel_requested: bool = False

    @property
    def cancel_refund(self) -> int:
        """What cancelling this job refunds (``upstream_billing.cancel_refund``)."""
        return cancel_refund(self.checkpoint, self.credits_used)


class Lease(IntEnum):
    """What a heartbeat learnt: the lease is gone (falsy), held, or held by a job the partner
    asked to cancel (``job.cancel`` marks an unfinished job's ``error_code`` ``cancelled``)."""

    LOST = 0
    HELD = 1
    CANCEL_REQUESTED = 2


def cancelled_failure() -> JobFailure:
    return JobFailure(CANCELLED, "The job was cancelled", retryable=False)


class FinishedJob(Protocol):
    """What a finish hook is told of the job that ended."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def account_id(self) -> int: ...


@dataclass(frozen=True)
class EndedJob:
    """A job ended without a worker holding it (a cancel)."""

    id: str
    kind: str
    account_id: int


# Runs inside the transaction that ends a job (True: complete, False: failed): the webhook outbox.
FinishHook = Callable[[AsyncConnection, FinishedJob, bool], Awaitable[None]]


def error_values(failure: JobFailure, refund: int, now: datetime) -> dict[str, Any]:
    """The columns of a job that ends in ``error`` now, refunded ``refund``, its lease released."""
    return {
        "status": JobStatus.ERROR,
        "message": failure.message,
        "error": failure.message,
        "error_code": failure.code,
        "failed_stage": failure.stage,
        "retryable": failure.retryable,
        "credits_refunded": refund,
        "finished_at": now,
        "updated_at": now,
        "lease_owner": None,
        "lease_token": None,
        "lease_expires_at": None,
    }


# Runs inside a paid submit's transaction with (account, cost, balance left): credits.low.
DebitHook = Callable[[AsyncConnection, int, int, int], Awaitable[None]]


@dataclass(frozen=True)
class QueuePolicy:
    lease_seconds: float = 10.0
    max_attempts: int = 3
    timeout_seconds: int = 1800
    # How long a lease holder's write waits for an unreachable database (a restart, a failover)
    # before it gives up and leaves the job to its lease.
    outage_patience_seconds: float = 60.0
    # How long a paid submit whose commit went unanswered waits to learn whether it committed
    # (its partner is waiting for the answer).
    commit_doubt_seconds: float = 10.0


P = ParamSpec("P")
R = TypeVar("R")


def _waits_out_outages(
    write: Callable[Concatenate[JobQueue, ClaimedJob, P], Awaitable[R]],
) -> Callable[Concatenate[JobQueue, ClaimedJob, P], Awaitable[R]]:
    """A lease holder's write waits for a database that went away instead of failing the job:
    a render is not redone, nor an attempt spent, over a database restart. Repeating one is
    harmless, also when the first landed and only its answer was lost: it is fenced on the lease
    token and an unfinished job, so one that ended the job or handed it back matches nothing the
    second time, and the others write the same again."""

    @functools.wraps(write)
    async def waiting(queue: JobQueue, job: ClaimedJob, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await through_outages(
            lambda: write(queue, job, *args, **kwargs),
            patience=queue.policy.outage_patience_seconds,
            what=f"job {job.id}: {write.__name__}",
        )

    return waiting


class JobQueue:
    def __init__(self, engine: AsyncEngine, policy: QueuePolicy) -> None:
        self.engine = engine
        self.policy = policy
        self._skip_locked = engine.dialect.name == "postgresql"
        self.on_finish: FinishHook | None = None
        self.on_debit: DebitHook | None = None

    # Enqueue: inside the caller's transaction, beside the debit -------------------------------

    async def enqueue(
        self,
        conn: AsyncConnection,
        *,
        job_id: str,
        account_id: int,
        kind: str,
        status: JobStatus,
        message: str,
        params: Mapping[str, Any],
        credits_used: int,
        now: datetime,
        run_after: datetime | None = None,
    ) -> None:
        start = run_after or now
        await conn.execute(
            jobs.insert().values(
                id=job_id,
                account_id=account_id,
                kind=kind,
                status=status,
                message=message,
                progress=0,
                params=params,
                credits_used=credits_used,
                credits_refunded=0,
                attempts=0,
                max_attempts=self.policy.max_attempts,
                run_after=start,
                deadline_at=start + timedelta(seconds=self.policy.timeout_seconds),
                created_at=now,
                updated_at=now,
            )
        )
        await announce(conn, kind)

    async def submit_paid(
        self,
        *,
        job_id: str,
        account_id: int,
        kind: str,
        params: Mapping[str, Any],
        cost: int,
        reason: str,
        also: Callable[[AsyncConnection, int], Awaitable[None]] | None = None,
    ) -> int:
        """Debit and enqueue in one transaction (D10): a job exists exactly when it was paid for.
        ``also`` runs in that transaction with the balance left (an idempotency record).
        Returns the balance left; raises 402 when it cannot be covered."""
        now = utcnow()
        async with self.paid_transaction(job_id) as conn:
            remaining = await ledger.debit(conn, account_id, cost, job_id, reason, now)
            await self.enqueue(
                conn,
                job_id=job_id,
                account_id=account_id,
                kind=kind,
                status=JobStatus.QUEUED,
                message="Waiting for a worker...",
                params=params,
                credits_used=cost,
                now=now,
            )
            if also is not None:
                await also(conn, remaining)
            await self.debited(conn, account_id, cost, remaining)
        return remaining

    def paid_transaction(self, job_id: str) -> AbstractAsyncContextManager[AsyncConnection]:
        """The transaction of a paid submit: the debit and the job ``job_id``. If the database is
        lost as it commits, the job's row says whether it committed, so a submit answered 503
        (nothing charged) is one that charged nothing (``settled_transaction``)."""

        async def landed(conn: AsyncConnection) -> bool:
            return await conn.scalar(select(jobs.c.id).where(jobs.c.id == job_id)) is not None

        return settled_transaction(
            self.engine,
            landed,
            patience=self.policy.commit_doubt_seconds,
            what=f"paid submit of job {job_id}",
        )

    async def debited(
        self, conn: AsyncConnection, account_id: int, cost: int, remaining: int
    ) -> None:
        """Every paid submit's transaction calls this after its debit (the credits.low event)."""
        if self.on_debit is not None:
            await self.on_debit(conn, account_id, cost, remaining)

    # Claim -------------------------------------------------------------------------------------

    async def claim(
        self, worker_id: str, kinds: list[str], only: Collection[str] | None = None
    ) -> ClaimedJob | None:
        """Lease the next runnable job of one of ``kinds`` (and, given ``only``, one of those
        ids: the demo runs its own jobs and nobody else's); None when there is none."""
        while True:
            now = utcnow()
            async with write_transaction(self.engine) as conn:
                job = await self._claim_one(conn, worker_id, kinds, now, only)
            if job is None:
                return None
            if job.cancel_requested:  # asked while its worker was gone, stopping or parked
                await self.fail(job, cancelled_failure(), refund=job.cancel_refund)
            elif job.attempts > job.max_attempts:
                await self.fail(
                    job,
                    JobFailure(
                        "worker_lost", "The job was interrupted too many times", retryable=True
                    ),
                )
            elif now >= job.deadline_at:
                await self.fail(
                    job, JobFailure("timeout", "The job ran past its time limit", retryable=True)
                )
            else:
                return job

    async def _claim_one(
        self,
        conn: AsyncConnection,
        worker_id: str,
        kinds: list[str],
        now: datetime,
        only: Collection[str] | None = None,
    ) -> ClaimedJob | None:
        claimable = and_(
            jobs.c.finished_at.is_(None),
            # a cancel request is settled at once, not when a parked job's next poll is due
            or_(jobs.c.run_after <= now, jobs.c.error_code == CANCELLED),
            or_(jobs.c.lease_expires_at.is_(None), jobs.c.lease_expires_at < now),
        )
        candidates = (
            select(jobs.c.id)
            .where(claimable, jobs.c.kind.in_(kinds))
            .order_by(jobs.c.run_after, jobs.c.id)
            .limit(8)
        )
        if only is not None:
            candidates = candidates.where(jobs.c.id.in_(only))
        if self._skip_locked:
            candidates = candidates.with_for_update(skip_locked=True)
        for job_id in (await conn.scalars(candidates)).all():
            token = secrets.token_hex(16)
            row = (
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, claimable)
                    .values(
                        lease_owner=worker_id[:80],
                        lease_token=token,
                        lease_expires_at=now + timedelta(seconds=self.policy.lease_seconds),
                        attempts=jobs.c.attempts + 1,
                        started_at=func.coalesce(jobs.c.started_at, now),
                        updated_at=now,
                    )
                    .returning(
                        jobs.c.id,
                        jobs.c.kind,
                        jobs.c.account_id,
                        jobs.c.params,
                        jobs.c.checkpoint,
                        jobs.c.attempts,
                        jobs.c.max_attempts,
                        jobs.c.credits_used,
                        jobs.c.deadline_at,
                        jobs.c.progress,
                        jobs.c.status,
                        jobs.c.message,
                        jobs.c.error_code,
                    )
                )
            ).first()
            if row is not None:
                return ClaimedJob(
                    id=row.id,
                    kind=row.kind,
                    account_id=row.account_id,
                    params=row.params,
                    checkpoint=row.checkpoint or {},
                    attempts=row.attempts,
                    max_attempts=row.max_attempts,
                    lease_token=token,
                    credits_used=row.credits_used,
                    deadline_at=row.deadline_at,
                    progress=row.progress or 0,
                    status=row.status,
                    message=row.message,
                    cancel_requested=row.error_code == CANCELLED,
                )
        return None

    # Fenced writes by the lease holder (all but ``release`` wait out a database outage) -------

    def _fenced(self, job: ClaimedJob):  # type: ignore[no-untyped-def]
        return update(jobs).where(
            jobs.c.id == job.id, jobs.c.lease_token == job.lease_token, jobs.c.finished_at.is_(None)
        )

    @_waits_out_outages
    async def heartbeat(self, job: ClaimedJob, /, **visible: Any) -> Lease:
        """Extend the lease and publish progress; ``Lease.LOST`` once the lease is lost."""
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            row = (
                await conn.execute(
                    self._fenced(job)
                    .values(
                        lease_expires_at=now + timedelta(seconds=self.policy.lease_seconds),
                        updated_at=now,
                        **visible,
                    )
                    .returning(jobs.c.error_code)
                )
            ).first()
        if row is None:
            return Lease.LOST
        return Lease.CANCEL_REQUESTED if row.error_code == CANCELLED else Lease.HELD

    @_waits_out_outages
    async def save_checkpoint(self, job: ClaimedJob, checkpoint: dict[str, Any]) -> bool:
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                self._fenced(job).values(checkpoint=checkpoint, updated_at=utcnow())
            )
        return result.rowcount == 1

    @_waits_out_outages
    async def complete(
        self,
        job: ClaimedJob,
        result: dict[str, Any],
        *,
        status: JobStatus = JobStatus.COMPLETE,
        message: str = "Complete",
    ) -> bool:
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            outcome = await conn.execute(
                self._fenced(job).values(
                    status=status,
                    message=message,
                    progress=100,
                    result=result,
                    error_code=None,  # a cancel that came too late asks nothing any more
                    finished_at=now,
                    updated_at=now,
                    lease_owner=None,
                    lease_token=None,
                    lease_expires_at=None,
                )
            )
            if outcome.rowcount == 1 and self.on_finish is not None:
                await self.on_finish(conn, job, True)
        return outcome.rowcount == 1

    @_waits_out_outages
    async def retry_later(self, job: ClaimedJob, failure: JobFailure) -> bool:
        """Give the lease back and make the job runnable again after a jittered backoff."""
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            outcome = await conn.execute(
                self._fenced(job).values(
                    run_after=now + timedelta(seconds=retry_delay(job.attempts)),
                    last_error=f"{failure.code}: {failure.message}",
                    lease_owner=None,
                    lease_token=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
        return outcome.rowcount == 1

    async def release(self, job: ClaimedJob) -> bool:
        """Hand the job back unfinished (shutdown): runnable at once, the attempt not counted,
        and announced, so another worker resumes it now rather than after a lease or a poll.
        A stopping worker does not wait for an unreachable database: the lease hands it on."""
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            outcome = await conn.execute(
                self._fenced(job).values(
                    run_after=now,
                    attempts=jobs.c.attempts - 1,
                    lease_owner=None,
                    lease_token=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            )
            if outcome.rowcount == 1:
                await announce(conn, job.kind)
        return outcome.rowcount == 1

    @_waits_out_outages
    async def park(
        self,
        job: ClaimedJob,
        /,
        delay: float,
        checkpoint: dict[str, Any],
        **visible: Any,
    ) -> bool:
        """Give the lease back while the job waits on a remote task: claimable by any worker in
        ``delay`` seconds, resuming from ``checkpoint``. A park is not an attempt (a render polled
        a hundred times is one attempt); a worker lost while it polls still counts as one."""
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            outcome = await conn.execute(
                self._fenced(job).values(
                    checkpoint=checkpoint,
                    run_after=now + timedelta(seconds=delay),
                    attempts=jobs.c.attempts - 1,
                    lease_owner=None,
                    lease_token=None,
                    lease_expires_at=None,
                    updated_at=now,
                    **visible,
                )
            )
        return outcome.rowcount == 1

    @_waits_out_outages
    async def fail(
        self,
        job: ClaimedJob,
        failure: JobFailure,
        *,
        status: JobStatus = JobStatus.ERROR,
        refund: int | None = None,
    ) -> bool:
        """End the job in error and refund its charge (or ``refund`` of it), in one
        transaction."""
        now = utcnow()
        refund = job.credits_used if refund is None else refund
        async with write_transaction(self.engine) as conn:
            outcome = await conn.execute(
                self._fenced(job).values({**error_values(failure, refund, now), "status": status})
            )
            if outcome.rowcount != 1:
                return False
            await ledger.refund(
                conn, job.account_id, refund, job.id, f"refund: {failure.code}", now
            )
            if self.on_finish is not None:
                await self.on_finish(conn, job, False)
        return True

    # Reads for operators and tests ---------------------------------------------------------------

    async def pending_count(self) -> int:
        async with self.engine.connect() as conn:
            return int(
                await conn.scalar(
                    select(func.count()).select_from(jobs).where(jobs.c.finished_at.is_(None))
                )
                or 0
            )
