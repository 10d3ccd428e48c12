"""The event types, and the outbox: an event row (and a delivery per subscribed endpoint) written
inside the transaction that ends the job, so an event exists exactly when its outcome does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.schema import (
    accounts,
    job_webhooks,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from knightvision.job.queue import FinishedJob, JobQueue
from knightvision.job.status import JobStatus
from knightvision.kit.clock import format_wire, utcnow
from knightvision.webhooks.ids import new_event_id

EventType = Literal[
    "analysis.completed",
    "analysis.failed",
    "video.completed",
    "video.failed",
    "character.ready",
    "character.failed",
    "character.finalized",
    "credits.low",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
WEBHOOK_DELIVER = "webhook.deliver"

# Reads, in the finishing transaction, what the job's status endpoint would answer.
JobView = Callable[[AsyncConnection, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class JobEvents:
    """The events one job kind ends with, and the view they carry."""

    completed: str
    failed: str
    view: JobView


def delivery_job_id(delivery_id: int, attempt: int) -> str:
    return f"whd_{delivery_id}_{attempt}"


class Outbox:
    def __init__(
        self, queue: JobQueue, job_events: Mapping[str, JobEvents], *, credits_low_below: int
    ) -> None:
        self.queue = queue
        self.job_events = job_events
        self.credits_low_below = credits_low_below

    async def debited(
        self, conn: AsyncConnection, account_id: int, cost: int, remaining: int
    ) -> None:
        """``JobQueue``'s debit hook: credits.low when this charge takes the balance below the
        threshold (once per crossing, not on every charge below it)."""
        if remaining < self.credits_low_below <= remaining + cost:
            data = {"credits_remaining": remaining, "threshold": self.credits_low_below}
            await self.record(conn, account_id, "credits.low", data)

    async def job_finished(self, conn: AsyncConnection, job: FinishedJob, succeeded: bool) -> None:
        """``JobQueue``'s finish hook: the job's terminal event, if its kind has one."""
        events = self.job_events.get(job.kind)
        if events is None:
            return
        data = await events.view(conn, job.id)
        kind = events.completed if succeeded else events.failed
        event_id = await self.record(conn, job.account_id, kind, data)
        own_url = await conn.scalar(
            select(job_webhooks.c.url).where(job_webhooks.c.job_id == job.id)
        )
        if own_url is not None:  # the submit's webhook_url
            await self._deliver(conn, job.account_id, event_id, utcnow(), url=own_url)

    @staticmethod
    async def remember_webhook_url(conn: AsyncConnection, job_id: str, url: str) -> None:
        """A submit's own ``webhook_url``, written in the transaction that creates its job."""
        await conn.execute(insert(job_webhooks).values(job_id=job_id, url=url))

    async def record(
        self, conn: AsyncConnection, account_id: int, kind: str, data: dict[str, Any]
    ) -> str:
        """Write the event and queue its deliveries; returns the event's id."""
        now = utcnow()
        # Row-locks the account until commit: the next event's number is taken only after this
        # transaction ends, so numbers become visible in order and the feed never skips one.
        seq = (
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(last_event_seq=accounts.c.last_event_seq + 1)
                .returning(accounts.c.last_event_seq)
            )
        ).scalar_one()
        event_id = new_event_id()
        payload = {"type": kind, "timestamp": format_wire(now), "data": data}
        await conn.execute(
            insert(webhook_events).values(
                id=event_id,
                account_id=account_id,
                seq=seq,
                type=kind,
                payload=payload,
                created_at=now,
            )
        )
        await self.fan_out(conn, account_id, event_id, kind, now)
        return event_id

    async def fan_out(
        self, conn: AsyncConnection, account_id: int, event_id: str, kind: str, now: datetime
    ) -> int:
        """A delivery to each enabled endpoint that takes ``kind``; returns how many."""
        endpoints = (
            await conn.execute(
                select(webhook_endpoints.c.id, webhook_endpoints.c.events).where(
                    webhook_endpoints.c.account_id == account_id,
                    webhook_endpoints.c.enabled.is_(True),
                )
            )
        ).all()
        count = 0
        for endpoint in endpoints:
            if endpoint.events is None or kind in endpoint.events:
                await self._deliver(conn, account_id, event_id, now, endpoint_id=endpoint.id)
                count += 1
        return count

    async def _deliver(
        self,
        conn: AsyncConnection,
        account_id: int,
        event_id: str,
        now: datetime,
        *,
        endpoint_id: str | None = None,
        url: str | None = None,
    ) -> None:
        delivery_id = (
            await conn.execute(
                insert(webhook_deliveries)
                .values(
                    event_id=event_id,
                    endpoint_id=endpoint_id,
                    url=url,
                    status="pending",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                .returning(webhook_deliveries.c.id)
            )
        ).scalar_one()
        await self.schedule(conn, account_id, delivery_id, 1, now)

    async def schedule(
        self,
        conn: AsyncConnection,
        account_id: int,
        delivery_id: int,
        attempt: int,
        now: datetime,
        delay_seconds: float = 0.0,
    ) -> None:
        """One attempt is one job, run by the workers like any other."""
        await self.queue.enqueue(
            conn,
            job_id=delivery_job_id(delivery_id, attempt),
            account_id=account_id,
            kind=WEBHOOK_DELIVER,
            status=JobStatus.QUEUED,
            message="Waiting for a worker...",
            params={"delivery_id": delivery_id, "attempt": attempt},
            credits_used=0,
            now=now,
            run_after=now + timedelta(seconds=delay_seconds),
        )
