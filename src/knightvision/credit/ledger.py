"""Every balance change is a ledger row written in the same transaction as a guarded update.

The guard (``balance + amount >= 0``) keeps the balance from going negative under any
concurrency; the unique (job_id, kind) constraint keeps a job from being refunded twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.schema import accounts, ledger_entries
from knightvision.errors import InsufficientCreditsError


async def _apply(
    conn: AsyncConnection,
    account_id: int,
    amount: int,
    kind: str,
    reason: str,
    job_id: str | None,
    now: datetime,
) -> int | None:
    """Change the balance by ``amount`` if it stays non-negative; the new balance, or None."""
    new_balance = await conn.scalar(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.balance + amount >= 0)
        .values(balance=accounts.c.balance + amount)
        .returning(accounts.c.balance)
    )
    if new_balance is None:
        return None
    await conn.execute(
        ledger_entries.insert().values(
            account_id=account_id,
            amount=amount,
            kind=kind,
            reason=reason,
            job_id=job_id,
            created_at=now,
        )
    )
    return int(new_balance)


async def balance(conn: AsyncConnection, account_id: int) -> int:
    return int(
        await conn.scalar(select(accounts.c.balance).where(accounts.c.id == account_id)) or 0
    )


async def debit(
    conn: AsyncConnection, account_id: int, cost: int, job_id: str, reason: str, now: datetime
) -> int:
    """Charge a job; raises 402 with the balance when it cannot be covered."""
    remaining = await _apply(conn, account_id, -cost, "debit", reason, job_id, now)
    if remaining is None:
        raise InsufficientCreditsError(
            credits_remaining=await balance(conn, account_id), credits_required=cost
        )
    return remaining


async def refund(
    conn: AsyncConnection, account_id: int, amount: int, job_id: str, reason: str, now: datetime
) -> bool:
    """Give a job's charge back; False when it was already refunded."""
    if amount <= 0:
        return False
    try:
        async with (
            conn.begin_nested()
        ):  # a savepoint, so a refused duplicate leaves the transaction usable
            await _apply(conn, account_id, amount, "refund", reason, job_id, now)
    except IntegrityError:
        return False
    return True


async def grant(
    conn: AsyncConnection, account_id: int, amount: int, reason: str, now: datetime
) -> int:
    remaining = await _apply(conn, account_id, amount, "grant", reason, None, now)
    assert remaining is not None  # a grant is never negative
    return remaining


async def adjust(
    conn: AsyncConnection, account_id: int, amount: int, reason: str, now: datetime
) -> int | None:
    """An operator's correction, either sign; None when it would take the balance below zero."""
    return await _apply(conn, account_id, amount, "adjustment", reason, None, now)


async def ledger_sum(conn: AsyncConnection, account_id: int) -> int:
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
            ledger_entries.c.account_id == account_id
        )
    )
    return int(total or 0)


async def entries(conn: AsyncConnection, account_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(ledger_entries)
        .where(ledger_entries.c.account_id == account_id)
        .order_by(ledger_entries.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in rows]
