"""A paid submit's own ``webhook_url`` (an addition): its job's terminal event is also sent there,
signed with the secrets of the account's oldest enabled webhook endpoint.

The URL is checked before the submit runs (as a registered endpoint's is) and written in the
transaction that creates the job, through the same reply recorder as an Idempotency-Key record,
so a job has its URL exactly when it exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.account.repository import KeyPrincipal
from knightvision.container import Container
from knightvision.job.views import ReplyRecorder
from knightvision.webhooks.address import MAX_URL_CHARS
from knightvision.webhooks.events import Outbox

FIELD = "webhook_url"

# The job a submit's reply stands for, read in the submit's transaction.
JobOf = Callable[[AsyncConnection, dict[str, Any]], Awaitable[str]]


async def job_in_reply(_: AsyncConnection, reply: dict[str, Any]) -> str:
    return str(reply["job_id"])


class RequestWebhooks:
    def __init__(self, container: Container) -> None:
        self.endpoints = container.webhooks

    async def check(self, principal: KeyPrincipal, body: dict[str, Any]) -> str | None:
        raw = body.get(FIELD)
        if raw is None:
            return None
        return await self.endpoints.check_request_url(principal.account_id, raw)

    async def recorder(
        self, principal: KeyPrincipal, body: dict[str, Any], job_of: JobOf
    ) -> ReplyRecorder | None:
        """What the submit's transaction runs to keep the URL beside its job (None: no URL)."""
        url = await self.check(principal, body)
        if url is None:
            return None
        checked = url

        async def remember(conn: AsyncConnection, reply: dict[str, Any]) -> None:
            await Outbox.remember_webhook_url(conn, await job_of(conn, reply), checked)

        return remember


def both(first: ReplyRecorder | None, second: ReplyRecorder | None) -> ReplyRecorder | None:
    """One recorder that runs each given one, in order."""
    if first is None or second is None:
        return first or second
    one, other = first, second

    async def record(conn: AsyncConnection, reply: dict[str, Any]) -> None:
        await one(conn, reply)
        await other(conn, reply)

    return record


def with_webhook_url(schema: dict[str, Any]) -> dict[str, Any]:
    """A paid submit's body schema with the optional ``webhook_url``."""
    properties = {
        **schema.get("properties", {}),
        FIELD: {
            "type": ["string", "null"],
            "maxLength": MAX_URL_CHARS,
            "description": "also send this job's terminal event here (needs a registered "
            "webhook endpoint, whose secret signs it)",
        },
    }
    return {**schema, "properties": properties}
