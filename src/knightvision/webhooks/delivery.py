"""The ``webhook.deliver`` job: one attempt at one delivery, then the next one scheduled.

Each attempt re-checks the target's address (``address.py``), signs the event's payload with the
endpoint's secrets and posts it. A 2xx delivers it; a 410 disables the endpoint at once; anything
else (another status, a refused address, a timeout) schedules the next attempt after the next
delay of the retry schedule, until the schedule runs out. An endpoint failing for longer than
``disable_after`` is disabled, and its pending deliveries are abandoned at their next attempt.

A submit's own ``webhook_url`` is signed with the secrets of the account's oldest enabled endpoint
(the partner's signing endpoint); it is retried the same way but never disables that endpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
            delivery = (
                await conn.execute(
                    select(
                        webhook_deliveries.c.status,
                        webhook_deliveries.c.endpoint_id,
                        webhook_deliveries.c.url,
                        webhook_events.c.id.label("event_id"),
                        webhook_events.c.account_id,
                        webhook_events.c.payload,
                    )
                    .select_from(
                        webhook_deliveries.join(
                            webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id
                        )
                    )
                    .where(webhook_deliveries.c.id == delivery_id)
                )
            ).first()
            if delivery is None or delivery.status != "pending":  # endpoint gone, or settled
                return {"skipped": True}
            endpoint = await _signing_endpoint(conn, delivery)
        if endpoint is None or not endpoint.enabled:
            await self._settle_delivery(delivery_id, attempt, "abandoned", "endpoint disabled")
            return {"abandoned": True}
        outcome = await self._attempt(delivery, endpoint)
        await self._settle(delivery, endpoint, delivery_id, attempt, outcome)
        return {"status_code": outcome.status_code, "error": outcome.error}

    async def _attempt(self, delivery: Any, endpoint: Any) -> Outcome:
        timestamp = int(time.time())
        body = payload_bytes(delivery.payload)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                signing_secrets(endpoint, utcnow()), delivery.event_id, timestamp, body
            ),
        }
        try:
            target = await resolve_target(
                delivery.url or endpoint.url, allow_private=self.policy.allow_private
            )
        except UnsafeWebhookUrl as refused:
            return Outcome(None, str(refused))
        return await post(target, headers, body, self.policy.timeout_seconds)

    async def _settle(
        self, delivery: Any, endpoint: Any, delivery_id: int, attempt: int, outcome: Outcome
    ) -> None:
        now = utcnow()
        # Only a delivery to the endpoint's own URL tells anything about the endpoint.
        own = delivery.endpoint_id is not None
        async with write_transaction(self.engine) as conn:
            if outcome.delivered:
                if own:
                    await _endpoint_update(conn, endpoint.id, failing_since=None, updated_at=now)
                await _mark(conn, delivery_id, attempt, "delivered", outcome, now)
                return
            if outcome.status_code == 410:  # Gone: the receiver asks us to stop
                if own:
                    await _disable(conn, endpoint.id, "gone", now)
                await _mark(conn, delivery_id, attempt, "failed", outcome, now)
                return
            if own:
                failing_since = endpoint.failing_since or now
                await _endpoint_update(
                    conn,
                    endpoint.id,
                    failing_since=func.coalesce(webhook_endpoints.c.failing_since, now),
                    updated_at=now,
                )
                if now - failing_since >= timedelta(seconds=self.policy.disable_after_seconds):
                    await _disable(conn, endpoint.id, "failing", now)
                    await _mark(conn, delivery_id, attempt, "failed", outcome, now)
                    return
            schedule = self.policy.retry_schedule
            if attempt > len(schedule):
                await _mark(conn, delivery_id, attempt, "failed", outcome, now)
                return
            await _mark(conn, delivery_id, attempt, "pending", outcome, now)
            await self.outbox.schedule(
                conn, delivery.account_id, delivery_id, attempt + 1, now, schedule[attempt - 1]
            )

    async def _settle_delivery(
        self, delivery_id: int, attempt: int, status: str, error: str
    ) -> None:
        async with write_transaction(self.engine) as conn:
            await _mark(conn, delivery_id, attempt, status, Outcome(None, error), utcnow())


async def _signing_endpoint(conn: AsyncConnection, delivery: Any) -> Any:
    """The endpoint whose secrets sign the delivery: its own, or for a submit's ``webhook_url``
    the account's oldest enabled one."""
    query = select(webhook_endpoints)
    if delivery.endpoint_id is not None:
        query = query.where(webhook_endpoints.c.id == delivery.endpoint_id)
    else:
        query = (
            query.where(
                webhook_endpoints.c.account_id == delivery.account_id,
                webhook_endpoints.c.enabled.is_(True),
            )
            .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
            .limit(1)
        )
    return (await conn.execute(query)).first()


async def _mark(
    conn: AsyncConnection,
    delivery_id: int,
    attempt: int,
    status: str,
    outcome: Outcome,
    now: datetime,
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


async def _endpoint_update(conn: AsyncConnection, endpoint_id: str, **values: Any) -> None:
    await conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values)
    )


async def _disable(conn: AsyncConnection, endpoint_id: str, reason: str, now: datetime) -> None:
    await _endpoint_update(conn, endpoint_id, enabled=False, disabled_reason=reason, updated_at=now)
