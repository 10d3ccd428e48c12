"""Idempotency-Key records (Stripe's semantics, as in the IETF draft): scoped to an API key and an
endpoint, fingerprinted by the request body, kept 24 hours.

``claim`` is the first step of a submit that carries a key. It answers with one of:
- ``Fresh``: no live record, the submit runs; ``record_reply`` stores its reply inside the submit's
  own transaction (with the job and the debit), ``release`` forgets the claim when it fails;
- ``Replay``: the first request's reply, to answer again;
- ``InFlight``: the first request holds the key right now (409);
- ``Mismatch``: the key was used with another body (422).

A claim is a row with no reply, locked for ``LOCK_SECONDS``. The reply can only be written by the
transaction that creates the job, so a process that dies mid-submit leaves a row with no reply
and no job: once its lock runs out, the next retry takes the key over and runs the submit anew.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.db.engine import write_transaction
from knightvision.db.schema import idempotency_keys
from knightvision.kit.clock import utcnow

KEEP = timedelta(hours=24)
MAX_KEY_CHARS = 255
KEY_PATTERN = r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?"  # visible ASCII, spaces only inside
LOCK_SECONDS = 60.0  # longer than any submit takes: a submit is a few statements
_PURGE_EVERY = timedelta(minutes=1)


def fingerprint(body: dict[str, Any]) -> str:
    """The body's identity: equal JSON objects (key order and spacing aside) are one body."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Fresh:
    record_id: int


@dataclass(frozen=True)
class Replay:
    reply: dict[str, Any]


@dataclass(frozen=True)
class InFlight:
    pass


@dataclass(frozen=True)
class Mismatch:
    pass


Claim = Fresh | Replay | InFlight | Mismatch


class IdempotencyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._next_purge = utcnow()

    async def claim(self, key_id: int, endpoint: str, key: str, body_fingerprint: str) -> Claim:
        now = utcnow()
        await self._purge_expired(now)
        lock = now + timedelta(seconds=LOCK_SECONDS)
        scope = (
            (idempotency_keys.c.key_id == key_id)
            & (idempotency_keys.c.endpoint == endpoint)
            & (idempotency_keys.c.idempotency_key == key)
        )
        async with write_transaction(self.engine) as conn:
            row = (
                await conn.execute(
                    select(
                        idempotency_keys.c.id,
                        idempotency_keys.c.fingerprint,
                        idempotency_keys.c.reply,
                        idempotency_keys.c.locked_until,
                        idempotency_keys.c.created_at,
                    ).where(scope)
                )
            ).first()
            if row is not None and row.created_at <= now - KEEP:
                await conn.execute(delete(idempotency_keys).where(idempotency_keys.c.id == row.id))
                row = None
            if row is None:
                return await _insert(conn, key_id, endpoint, key, body_fingerprint, lock, now)
            if row.fingerprint != body_fingerprint:
                return Mismatch()
            if row.reply is not None:
                return Replay(row.reply)
            if row.locked_until > now:
                return InFlight()
            # The first request died before its transaction committed: take the key over.
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.id == row.id)
                .values(locked_until=lock)
            )
            return Fresh(row.id)

    @staticmethod
    async def record_reply(conn: AsyncConnection, record_id: int, reply: dict[str, Any]) -> None:
        """Store the reply; called inside the transaction that creates the job and debits it."""
        await conn.execute(
            update(idempotency_keys).where(idempotency_keys.c.id == record_id).values(reply=reply)
        )

    async def release(self, record_id: int) -> None:
        """The submit was refused (no job, no charge): the same key may be sent again."""
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.id == record_id, idempotency_keys.c.reply.is_(None)
                )
            )

    async def _purge_expired(self, now: datetime) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + _PURGE_EVERY
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                delete(idempotency_keys).where(idempotency_keys.c.created_at <= now - KEEP)
            )


async def _insert(
    conn: AsyncConnection,
    key_id: int,
    endpoint: str,
    key: str,
    body_fingerprint: str,
    lock: datetime,
    now: datetime,
) -> Claim:
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                idempotency_keys.insert().values(
                    key_id=key_id,
                    endpoint=endpoint,
                    idempotency_key=key,
                    fingerprint=body_fingerprint,
                    reply=null(),  # SQL NULL, not JSON null: the reply is not written yet
                    locked_until=lock,
                    created_at=now,
                )
            )
    except IntegrityError:
        # PostgreSQL: another request inserted the same key since our SELECT (SQLite's write
        # lock, taken at BEGIN, rules that out). It holds the key now.
        return InFlight()
    record_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    assert record_id is not None
    return Fresh(int(record_id))
