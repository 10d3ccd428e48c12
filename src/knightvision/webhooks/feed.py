"""The events feed: an account's events oldest first, paged by the last id seen, and redelivery.

Pages follow each account's event numbers (``seq``), which commit in order (``events.py``), so a
partner paging with ``after`` while events are being written sees every event exactly once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.db.engine import write_transaction
from knightvision.db.schema import webhook_events
from knightvision.errors import BadRequestError, NotFoundError
from knightvision.kit.clock import utcnow
from knightvision.webhooks.events import Outbox
from knightvision.webhooks.ids import is_event_id


def event_view(row: Any) -> dict[str, Any]:
    return {"id": row.id, **row.payload}


class EventsFeed:
    def __init__(self, engine: AsyncEngine, outbox: Outbox) -> None:
        self.engine = engine
        self.outbox = outbox

    async def page(self, account_id: int, after: str | None, limit: int) -> dict[str, Any]:
        mine = webhook_events.c.account_id == account_id
        query = select(webhook_events.c.id, webhook_events.c.payload).where(mine)
        async with self.engine.connect() as conn:
            if after is not None:
                anchor = None
                if is_event_id(after):
                    anchor = await conn.scalar(
                        select(webhook_events.c.seq).where(mine, webhook_events.c.id == after)
                    )
                if anchor is None:
                    raise BadRequestError("Invalid after", code="invalid_after", param="after")
                query = query.where(webhook_events.c.seq > anchor)
            rows = (await conn.execute(query.order_by(webhook_events.c.seq).limit(limit + 1))).all()
        return {"events": [event_view(row) for row in rows[:limit]], "has_more": len(rows) > limit}

    async def redeliver(self, account_id: int, event_id: str) -> dict[str, Any]:
        """Send the event again (same webhook-id) to every enabled endpoint that takes it."""
        if not is_event_id(event_id):
            raise NotFoundError()
        async with write_transaction(self.engine) as conn:
            kind = await conn.scalar(
                select(webhook_events.c.type).where(
                    webhook_events.c.account_id == account_id, webhook_events.c.id == event_id
                )
            )
            if kind is None:
                raise NotFoundError()
            count = await self.outbox.fan_out(conn, account_id, event_id, kind, utcnow())
        return {"event_id": event_id, "deliveries": count}
