"""``Idempotency-Key`` on the paid POSTs (an addition): a retried submit with the same key and body
is answered with the first reply (``Idempotent-Replayed: true``): same job, no second charge.
The same key with another body is 422; while the first request is still running, 409.

Keys are scoped to the API key and the endpoint and kept 24 hours (``idempotency/store.py``).
A refused submit (400, 402, …) records nothing: the key may be sent again with a corrected body.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from knightvision.account.repository import KeyPrincipal
from knightvision.api.responses import json_response
from knightvision.errors import (
    BadRequestError,
    IdempotencyInFlightError,
    IdempotencyMismatchError,
)
from knightvision.idempotency.store import (
    KEY_PATTERN,
    MAX_KEY_CHARS,
    Fresh,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Replay,
    fingerprint,
)
from knightvision.job.views import ReplyRecorder

HEADER = "idempotency-key"
REPLAYED = {"Idempotent-Replayed": "true"}
_WELL_FORMED = re.compile(KEY_PATTERN)

Submit = Callable[[ReplyRecorder | None], Awaitable[dict[str, Any]]]


class Idempotency:
    def __init__(self, store: IdempotencyStore) -> None:
        self.store = store

    async def respond(
        self,
        request: Request,
        principal: KeyPrincipal,
        endpoint: str,
        body: dict[str, Any],
        submit: Submit,
    ) -> Response:
        """Run ``submit`` (it records its reply through the recorder it is given, inside its own
        transaction) unless the request's key already has an answer."""
        key = request.headers.get(HEADER)
        if key is None:
            return json_response(request, await submit(None))
        if len(key) > MAX_KEY_CHARS or not _WELL_FORMED.fullmatch(key):
            raise BadRequestError(
                f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters",
                code="invalid_idempotency_key",
                param="Idempotency-Key",
                max_length=MAX_KEY_CHARS,
            )
        claim = await self.store.claim(principal.key_id, endpoint, key, fingerprint(body))
        if isinstance(claim, Replay):
            return json_response(request, claim.reply, headers=REPLAYED)
        if isinstance(claim, InFlight):
            raise IdempotencyInFlightError()
        if isinstance(claim, Mismatch):
            raise IdempotencyMismatchError()
        return json_response(request, await self._first(claim, submit))

    async def _first(self, claim: Fresh, submit: Submit) -> dict[str, Any]:
        async def record(conn: AsyncConnection, reply: dict[str, Any]) -> None:
            await self.store.record_reply(conn, claim.record_id, reply)

        try:
            return await submit(record)
        except BaseException:
            # Refused or interrupted before its transaction committed: nothing to replay.
            await self.store.release(claim.record_id)
            raise
