"""Operator actions behind the CLI: accounts, keys, credits and jobs. Each is one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.account import repository as repo
from knightvision.credit import ledger
from knightvision.db.engine import write_transaction
from knightvision.db.schema import accounts, jobs
from knightvision.errors import OperatorError
from knightvision.kit.clock import format_wire, utcnow
from knightvision.pricing import DEFAULT_RATE_LIMITS


async def create_account(engine: AsyncEngine, name: str, credits: int) -> dict[str, Any]:
    if not name.strip():
        raise OperatorError("an account needs a name")
    if credits < 0:
        raise OperatorError("credits must be zero or more")
    now = utcnow()
    async with write_transaction(engine) as conn:
        account_id = await repo.create_account(conn, name, now)
        balance = (
            await ledger.grant(conn, account_id, credits, "initial credits", now) if credits else 0
        )
        token, prefix = await repo.create_key(conn, account_id, now)
    return {
        "account": name,
        "account_id": account_id,
        "credits": balance,
        "api_key": token,
        "key_prefix": prefix,
    }


async def list_accounts(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [
            {
                "account": row["name"],
                "account_id": row["id"],
                "credits": row["balance"],
                "created_at": format_wire(row["created_at"]),
            }
            for row in await repo.list_accounts(conn)
        ]


async def create_key(engine: AsyncEngine, account: str) -> dict[str, Any]:
    async with write_transaction(engine) as conn:
        account_id = await repo.get_account_id(conn, account)
        if await conn.scalar(select(accounts.c.test_of).where(accounts.c.id == account_id)):
            # A live key spending test credits would call real upstreams for free.
            raise OperatorError(f"{account!r} is a test account: its keys are made with --test")
        token, prefix = await repo.create_key(conn, account_id, utcnow())
    return {"account": account, "api_key": token, "key_prefix": prefix}


TEST_ACCOUNT_SUFFIX = " (test)"
DEFAULT_TEST_CREDITS = 1000


async def create_test_key(
    engine: AsyncEngine, account: str, credits: int = DEFAULT_TEST_CREDITS
) -> dict[str, Any]:
    """A test-mode key for ``account``: it spends from the account's test balance (a test account
    made with the first test key, granted ``credits``), never from the live pool, and its jobs run
    on the offline engines."""
    if credits < 0:
        raise OperatorError("credits must be zero or more")
    now = utcnow()
    async with write_transaction(engine) as conn:
        live_id = await repo.get_account_id(conn, account)
        if await conn.scalar(select(accounts.c.test_of).where(accounts.c.id == live_id)):
            raise OperatorError(f"{account!r} is a test account: name its live account")
        existing = await repo.test_account_of(conn, live_id)
        if existing is None:
            test_name = account + TEST_ACCOUNT_SUFFIX
            test_id = await repo.create_test_account(conn, live_id, test_name, now)
            if credits:
                await ledger.grant(conn, test_id, credits, "initial test credits", now)
        else:
            test_id, test_name = existing
        token, prefix = await repo.create_key(conn, test_id, now, test=True)
        balance = await ledger.balance(conn, test_id)
    return {
        "account": test_name,
        "live_account": account,
        "credits": balance,
        "api_key": token,
        "key_prefix": prefix,
    }


async def list_keys(engine: AsyncEngine, account: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        account_id = await repo.get_account_id(conn, account)
        return [_key_view(row) for row in await repo.list_keys(conn, account_id)]


async def deactivate_key(engine: AsyncEngine, key_or_prefix: str) -> dict[str, Any]:
    async with write_transaction(engine) as conn:
        key_id = await repo.resolve_key_id(conn, key_or_prefix)
        await repo.deactivate_key(conn, key_id, utcnow())
        return _key_view(await repo.get_key(conn, key_id))


async def key_limits(
    engine: AsyncEngine,
    key_or_prefix: str,
    updates: dict[str, int | None] | None = None,
    clear: bool = False,
) -> dict[str, Any]:
    """Show, set (``None`` removes one) or clear a key's per-endpoint overrides
    (requests per minute)."""
    unknown = sorted(set(updates or {}) - set(DEFAULT_RATE_LIMITS))
    if unknown:
        raise OperatorError(
            f"unknown endpoint names {unknown}; known: {sorted(DEFAULT_RATE_LIMITS)}"
        )
    if any(value is not None and value < 1 for value in (updates or {}).values()):
        raise OperatorError("a limit is at least 1 request per minute")
    async with write_transaction(engine) as conn:
        key_id = await repo.resolve_key_id(conn, key_or_prefix)
        current = {} if clear else dict((await repo.get_key(conn, key_id))["rate_limits"] or {})
        for endpoint, value in (updates or {}).items():
            if value is None:
                current.pop(endpoint, None)
            else:
                current[endpoint] = value
        await repo.set_key_limits(conn, key_id, current)
        key = _key_view(await repo.get_key(conn, key_id))
    key["effective_limits"] = {**DEFAULT_RATE_LIMITS, **current}
    return key


async def change_credits(
    engine: AsyncEngine, account: str, amount: int, reason: str, *, kind: str
) -> dict[str, Any]:
    """``kind`` is ``grant`` (credits add, positive)
    or ``adjustment`` (either sign, with a reason)."""
    if kind == "grant" and amount <= 0:
        raise OperatorError("credits to add must be positive")
    if kind == "adjustment" and (amount == 0 or not reason.strip()):
        raise OperatorError("an adjustment needs a non-zero amount and a reason")
    now = utcnow()
    async with write_transaction(engine) as conn:
        account_id = await repo.get_account_id(conn, account)
        if kind == "grant":
            balance = await ledger.grant(conn, account_id, amount, reason, now)
        else:
            adjusted = await ledger.adjust(conn, account_id, amount, reason, now)
            if adjusted is None:
                raise OperatorError(
                    f"the balance is {await ledger.balance(conn, account_id)};"
                    " it cannot go below zero"
                )
            balance = adjusted
    return {"account": account, "credits": balance, "change": amount, "reason": reason}


async def show_credits(engine: AsyncEngine, account: str, entries: int = 10) -> dict[str, Any]:
    async with engine.connect() as conn:
        account_id = await repo.get_account_id(conn, account)
        return {
            "account": account,
            "credits": await ledger.balance(conn, account_id),
            "ledger_sum": await ledger.ledger_sum(conn, account_id),
            "recent": [
                {
                    **{k: v for k, v in row.items() if k not in {"account_id", "created_at"}},
                    "created_at": format_wire(row["created_at"]),
                }
                for row in await ledger.entries(conn, account_id, entries)
            ],
        }


async def list_jobs(
    engine: AsyncEngine, account: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
    async with engine.connect() as conn:
        if account is not None:
            query = query.where(jobs.c.account_id == await repo.get_account_id(conn, account))
        if status is not None:
            query = query.where(jobs.c.status == status)
        return [_job_view(row._mapping, brief=True) for row in await conn.execute(query)]


async def show_job(engine: AsyncEngine, job_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
    if row is None:
        raise OperatorError(f"no job {job_id!r}")
    return _job_view(row._mapping, brief=False)


def _key_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key_prefix": row["prefix"],
        "active": row["active"],
        "rate_limits": row["rate_limits"] or {},
        "created_at": format_wire(row["created_at"]),
        "deactivated_at": format_wire(row["deactivated_at"]),
    }


def _job_view(row: Any, *, brief: bool) -> dict[str, Any]:
    view = {
        name: format_wire(value) if name.endswith("_at") else value for name, value in row.items()
    }
    view.pop("lease_token", None)  # a fencing secret, not for display
    if brief:
        return {
            name: view[name]
            for name in (
                "id",
                "kind",
                "status",
                "progress",
                "credits_used",
                "credits_refunded",
                "attempts",
                "created_at",
            )
        }
    return view
