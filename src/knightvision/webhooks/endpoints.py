"""An account's webhook endpoints: register (the secret shown once), list, delete, rotate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.db.engine import write_transaction
from knightvision.db.schema import webhook_endpoints
from knightvision.errors import BadRequestError, NotFoundError
from knightvision.kit.clock import format_wire, utcnow
from knightvision.webhooks.address import UnsafeWebhookUrl, resolve_target
from knightvision.webhooks.events import EVENT_TYPES
from knightvision.webhooks.ids import is_endpoint_id, new_endpoint_id
from knightvision.webhooks.signing import new_secret

MAX_ENDPOINTS = 20
MAX_DESCRIPTION_CHARS = 200
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret keeps signing this long after a rotation


def endpoint_view(row: Any) -> dict[str, Any]:
    view = {
        "id": row.id,
        "url": row.url,
        "events": row.events if row.events is not None else list(EVENT_TYPES),
        "description": row.description,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "created_at": format_wire(row.created_at),
    }
    return {name: value for name, value in view.items() if value is not None}


class WebhookEndpoints:
    def __init__(self, engine: AsyncEngine, *, allow_private: bool) -> None:
        self.engine = engine
        self.allow_private = allow_private

    async def check_url(self, raw: object) -> str:
        """A URL webhooks may be sent to now (the same check as every delivery makes)."""
        try:
            target = await resolve_target(raw, allow_private=self.allow_private)
        except UnsafeWebhookUrl as refused:
            raise BadRequestError(str(refused), code="invalid_webhook_url", param="url") from None
        return str(target.url)

    async def check_request_url(self, account_id: int, raw: object) -> str:
        """A submit's own ``webhook_url``: checked as an endpoint's URL is, and signed with the
        account's oldest enabled endpoint's secrets, so the account needs one."""
        try:
            target = await resolve_target(raw, allow_private=self.allow_private)
        except UnsafeWebhookUrl as refused:
            message = str(refused).replace("url", "webhook_url", 1)
            raise BadRequestError(
                message, code="invalid_webhook_url", param="webhook_url"
            ) from None
        async with self.engine.connect() as conn:
            signing = await conn.scalar(
                select(func.count())
                .select_from(webhook_endpoints)
                .where(
                    webhook_endpoints.c.account_id == account_id,
                    webhook_endpoints.c.enabled.is_(True),
                )
            )
        if not signing:
            raise BadRequestError(
                "webhook_url needs a registered webhook endpoint: its secret signs the messages",
                code="no_webhook_endpoint",
                param="webhook_url",
            )
        return str(target.url)

    async def create(self, account_id: int, body: dict[str, Any]) -> dict[str, Any]:
        events = _events(body.get("events"))
        description = body.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS
        ):
            raise BadRequestError(
                "Invalid description",
                code="invalid_description",
                param="description",
                max_length=MAX_DESCRIPTION_CHARS,
            )
        url = await self.check_url(body.get("url"))
        now = utcnow()
        endpoint_id, secret = new_endpoint_id(), new_secret()
        async with write_transaction(self.engine) as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(webhook_endpoints)
                .where(webhook_endpoints.c.account_id == account_id)
            )
            if (count or 0) >= MAX_ENDPOINTS:
                raise BadRequestError(
                    f"At most {MAX_ENDPOINTS} webhook endpoints per account",
                    code="too_many_webhooks",
                    maximum=MAX_ENDPOINTS,
                )
            await conn.execute(
                insert(webhook_endpoints).values(
                    id=endpoint_id,
                    account_id=account_id,
                    url=url,
                    events=events,
                    description=description,
                    secret=secret,
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            row = await self._row(conn, account_id, endpoint_id)
        return {**endpoint_view(row), "secret": secret}

    async def list(self, account_id: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(webhook_endpoints)
                    .where(webhook_endpoints.c.account_id == account_id)
                    .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
                )
            ).all()
        return [endpoint_view(row) for row in rows]

    async def delete(self, account_id: int, endpoint_id: str) -> None:
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                delete(webhook_endpoints).where(
                    webhook_endpoints.c.id == endpoint_id,
                    webhook_endpoints.c.account_id == account_id,
                )
            )
        if result.rowcount != 1:
            raise NotFoundError()

    async def rotate(self, account_id: int, endpoint_id: str) -> dict[str, Any]:
        """A new secret (shown once); the current one keeps signing beside it for 24 hours."""
        now, secret = utcnow(), new_secret()
        async with write_transaction(self.engine) as conn:
            row = await self._row(conn, account_id, endpoint_id)
            await conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == row.id)
                .values(
                    secret=secret,
                    previous_secret=row.secret,
                    previous_secret_until=now + ROTATION_OVERLAP,
                    updated_at=now,
                )
            )
        return {**endpoint_view(row), "secret": secret}

    @staticmethod
    async def _row(conn: Any, account_id: int, endpoint_id: str) -> Any:
        row = None
        if is_endpoint_id(endpoint_id):
            row = (
                await conn.execute(
                    select(webhook_endpoints).where(
                        webhook_endpoints.c.id == endpoint_id,
                        webhook_endpoints.c.account_id == account_id,
                    )
                )
            ).first()
        if row is None:
            raise NotFoundError()
        return row


def _events(raw: object) -> list[str] | None:
    """The event types to send; absent or null: all of them."""
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or not raw
        or len(raw) > len(EVENT_TYPES)
        or any(kind not in EVENT_TYPES for kind in raw)
    ):
        raise BadRequestError(
            "Invalid events", code="invalid_events", param="events", allowed=list(EVENT_TYPES)
        )
    return sorted(set(raw), key=EVENT_TYPES.index)
