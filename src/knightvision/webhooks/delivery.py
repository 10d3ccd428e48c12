"""The ``webhook.deliver`` job: one attempt at one delivery, then the next one scheduled.

Each attempt re-checks the endpoint's address (``address.py``), signs the event's payload with the
endpoint's secrets and posts it. A 2xx delivers it; a 410 disables the endpoint at once; anything
else (another status, a refused address, a timeout) schedules the next attempt after the next
delay of the retry schedule, until the schedule runs out. An endpoint failing for longer than
``disable_after`` is disabled, and its pending deliveries are abandoned at their next attempt.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.db.engine import write_transaction
from knightvision.db.schema import webhook_deliveries, webhook_endpoints, webhook_events
from knightvision.kit.clock import utcnow
from knightvision.webhooks.address import UnsafeWebhookUrl, resolve_target
from knightvision.webhooks.events import Outbox
from knightvision.webhooks.sender import Outcome, post
from knightvision.webhooks.signing import signature_header
from knightvision.worker.context import JobContext

USER_AGENT = "Knightvision-Webhooks/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    allow_private: bool
    timeout_seconds: float
    retry_schedule: tuple[float, ...]
    disable_after_seconds: float


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signing_secrets(endpoint: Any, now: datetime) -> list[str]:
    """The current secret, and a rotated-out one while it still signs."""
    kept = endpoint.previous_secret is not None and endpoint.previous_secret_until > now
    return [endpoint.secret, endpoint.previous_secret] if kept else [endpoint.secret]


class WebhookDelivery:
    def __init__(self, engine: AsyncEngine, outbox: Outbox, policy: DeliveryPolicy) -> None:
        self.engine = engine
        self.outbox = outbox
        self.policy = policy

    async def __call__(self, context: JobContext) -> dict[str, Any]:
        delivery_id = int(context.params["delivery_id"])
        attempt = int(context.params["attempt"])
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        webhook_deliveries.c.status,
                        webhook_events.c.id.label("event_id"),
                        webhook_events.c.payload,
                        webhook_endpoints,
                    )
                    .select_from(
                        webhook_deliveries.join(
                            webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id
                        ).join(
                            webhook_endpoints,
                            webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id,
                        )
                    )
                    .where(webhook_deliveries.c.id == delivery_id)
                )
            ).first()
        if row is None or row.status != "pending":  # endpoint deleted, or settled already
            return {"skipped": True}
        if not row.enabled:
            await self._settle_delivery(
                delivery_id, attempt, "abandoned", None, "endpoint disabled"
            )
            return {"abandoned": True}
        outcome = await self._attempt(row)
        await self._settle(row, delivery_id, attempt, outcome)
        return {"status_code": outcome.status_code, "error": outcome.error}

    async def _attempt(self, row: Any) -> Outcome:
        now = utcnow()
        timestamp = int(time.time())
        body = payload_bytes(row.payload)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": row.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                signing_secrets(row, now), row.event_id, timestamp, body
            ),
        }
        try:
            target = await resolve_target(row.url, allow_private=self.policy.allow_private)
        except UnsafeWebhookUrl as refused:
            return Outcome(None, str(refused))
        return await post(target, headers, body, self.policy.timeout_seconds)

    async def _settle(self, row: Any, delivery_id: int, attempt: int, outcome: Outcome) -> None:
        now = utcnow()
        endpoints = webhook_endpoints.c
        async with write_transaction(self.engine) as conn:
            if outcome.delivered:
                await conn.execute(
                    update(webhook_endpoints)
                    .where(endpoints.id == row.id)
                    .values(failing_since=None, updated_at=now)
                )
                await self._mark(conn, delivery_id, attempt, "delivered", outcome, now)
                return
            if outcome.status_code == 410:  # Gone: the receiver asks us to stop
                await self._disable(conn, row.id, "gone", now)
                await self._mark(conn, delivery_id, attempt, "failed", outcome, now)
                return
            failing_since = row.failing_since or now
            await conn.execute(
                update(webhook_endpoints)
                .where(endpoints.id == row.id)
                .values(failing_since=func.coalesce(endpoints.failing_since, now), updated_at=now)
            )
            if now - failing_since >= timedelta(seconds=self.policy.disable_after_seconds):
                await self._disable(conn, row.id, "failing", now)
                await self._mark(conn, delivery_id, attempt, "failed", outcome, now)
                return
            schedule = self.policy.retry_schedule
            if attempt > len(schedule):
                await self._mark(conn, delivery_id, attempt, "failed", outcome, now)
                return
            await self._mark(conn, delivery_id, attempt, "pending", outcome, now)
            await self.outbox.schedule(
                conn, row.account_id, delivery_id, attempt + 1, now, schedule[attempt - 1]
            )

    async def _settle_delivery(
        self, delivery_id: int, attempt: int, status: str, code: int | None, error: str
    ) -> None:
        async with write_transaction(self.engine) as conn:
            await self._mark(conn, delivery_id, attempt, status, Outcome(code, error), utcnow())

    @staticmethod
    async def _mark(
        conn: Any, delivery_id: int, attempt: int, status: str, outcome: Outcome, now: datetime
    ) -> None:
        await conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                status=status,
                attempts=attempt,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
                updated_at=now,
            )
        )

    @staticmethod
    async def _disable(conn: Any, endpoint_id: str, reason: str, now: datetime) -> None:
        await conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id)
            .values(enabled=False, disabled_reason=reason, updated_at=now)
        )
