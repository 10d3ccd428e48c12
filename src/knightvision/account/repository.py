"""Queries on accounts and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.hot_reads import HotReads, OneRowQuery
from knightvision.db.schema import accounts, api_keys
from knightvision.errors import OperatorError
from knightvision.kit.ids import hash_api_key, is_test_key, key_display_prefix, new_api_key


@dataclass(frozen=True)
class KeyPrincipal:
    """Who is calling: the key that authenticated and the account it spends from."""

    key_id: int
    account_id: int
    active: bool
    rate_limits: dict[str, int]
    # A test-mode key (``kv_partner_test_…``): its account is the test account, its jobs run on
    # the offline engines.
    test_mode: bool = False

    @classmethod
    def from_row(cls, row: Any) -> KeyPrincipal:
        return cls(
            key_id=row.id,
            account_id=row.account_id,
            active=row.active,
            rate_limits=row.rate_limits or {},
            test_mode=is_test_key(row.prefix),
        )


async def create_account(conn: AsyncConnection, name: str, now: datetime) -> int:
    try:
        result = await conn.execute(accounts.insert().values(name=name, balance=0, created_at=now))
    except IntegrityError:
        raise OperatorError(f"account {name!r} already exists") from None
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def test_account_of(conn: AsyncConnection, account_id: int) -> tuple[int, str] | None:
    """The test account that belongs to a live account: (id, name), or None before its first
    test key."""
    row = (
        await conn.execute(
            select(accounts.c.id, accounts.c.name).where(accounts.c.test_of == account_id)
        )
    ).first()
    return None if row is None else (int(row.id), str(row.name))


async def create_test_account(conn: AsyncConnection, live_id: int, name: str, now: datetime) -> int:
    result = await conn.execute(
        accounts.insert().values(name=name, balance=0, test_of=live_id, created_at=now)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def get_account_id(conn: AsyncConnection, name: str) -> int:
    account_id = await conn.scalar(select(accounts.c.id).where(accounts.c.name == name))
    if account_id is None:
        raise OperatorError(f"no account named {name!r}")
    return int(account_id)


async def list_accounts(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(accounts).order_by(accounts.c.id))
    return [dict(row._mapping) for row in rows]


async def create_key(
    conn: AsyncConnection, account_id: int, now: datetime, *, test: bool = False
) -> tuple[str, str]:
    """A new key (a test key on a test account); the token is returned once and only its hash
    is kept."""
    token = new_api_key(test=test)
    prefix = key_display_prefix(token)
    await conn.execute(
        api_keys.insert().values(
            account_id=account_id,
            key_hash=hash_api_key(token),
            prefix=prefix,
            active=True,
            created_at=now,
        )
    )
    return token, prefix


_PRINCIPAL = OneRowQuery(
    select(
        api_keys.c.id,
        api_keys.c.account_id,
        api_keys.c.active,
        api_keys.c.rate_limits,
        api_keys.c.prefix,
    ).where(api_keys.c.key_hash == bindparam("key_hash")),
    build=KeyPrincipal.from_row,
)


async def find_principal(reads: HotReads, token: str) -> KeyPrincipal | None:
    return await reads.first(_PRINCIPAL, {"key_hash": hash_api_key(token)})


async def list_keys(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            api_keys.c.id,
            api_keys.c.prefix,
            api_keys.c.active,
            api_keys.c.rate_limits,
            api_keys.c.created_at,
            api_keys.c.deactivated_at,
        )
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def resolve_key_id(conn: AsyncConnection, key_or_prefix: str) -> int:
    """A key named by its full token or by its display prefix; the prefix must be unambiguous."""
    rows = (
        await conn.execute(
            select(api_keys.c.id).where(
                or_(
                    api_keys.c.key_hash == hash_api_key(key_or_prefix),
                    api_keys.c.prefix == key_or_prefix,
                )
            )
        )
    ).all()
    if not rows:
        raise OperatorError(f"no key matches {key_or_prefix!r}")
    if len(rows) > 1:
        raise OperatorError(f"{key_or_prefix!r} names {len(rows)} keys; give the full key")
    return int(rows[0].id)


async def deactivate_key(conn: AsyncConnection, key_id: int, now: datetime) -> None:
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.active.is_(True))
        .values(active=False, deactivated_at=now)
    )


async def get_key(conn: AsyncConnection, key_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).one()
    return {name: value for name, value in row._mapping.items() if name != "key_hash"}


async def set_key_limits(conn: AsyncConnection, key_id: int, limits: dict[str, int] | None) -> None:
    await conn.execute(
        update(api_keys).where(api_keys.c.id == key_id).values(rate_limits=limits or None)
    )


async def count_accounts(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(accounts)) or 0)
