"""Queries on accounts and API keys."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.schema import accounts, api_keys
from knightvision.errors import OperatorError
from knightvision.kit.ids import hash_api_key, key_display_prefix, new_api_key


@dataclass(frozen=True)
class KeyPrincipal:
    """Who is calling: the key that authenticated and the account it spends from."""

    key_id: int
    account_id: int
    active: bool
    rate_limits: dict[str, int]


async def create_account(conn: AsyncConnection, name: str, now: datetime) -> int:
    try:
        result = await conn.execute(accounts.insert().values(name=name, balance=0, created_at=now))
    except IntegrityError:
        raise OperatorError(f"account {name!r} already exists") from None
    return int(result.inserted_primary_key[0])


async def get_account_id(conn: AsyncConnection, name: str) -> int:
    account_id = await conn.scalar(select(accounts.c.id).where(accounts.c.name == name))
    if account_id is None:
        raise OperatorError(f"no account named {name!r}")
    return int(account_id)


async def list_accounts(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(accounts).order_by(accounts.c.id))
    return [dict(row._mapping) for row in rows]


async def create_key(conn: AsyncConnection, account_id: int, now: datetime) -> tuple[str, str]:
    """A new live key; the token is returned once and only its hash is kept."""
    token = new_api_key()
    prefix = key_display_prefix(token)
    await conn.execute(
        api_keys.insert().values(
            account_id=account_id, key_hash=hash_api_key(token), prefix=prefix, active=True, created_at=now
        )
    )
    return token, prefix


class OneRowQuery:
    """A read on the request hot path (ADR 0003): its first row, as ``(await conn.execute(q)).first()``
    would give it, but on aiosqlite in ONE trip to the connection's thread instead of about seven
    (BEGIN, cursor, execute, fetchall, close, each a thread hop and a GIL hand-off).

    Same SQL (compiled once by SQLAlchemy for the dialect), same bind and result type processing
    (the columns' own processors: JSON, Boolean, DateTime); other drivers take the ordinary path.
    Rows are named tuples. SQLAlchemy cursor events do not fire on the fast path.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._prepared: WeakKeyDictionary[Dialect, tuple[Any, ...]] = WeakKeyDictionary()

    async def first(self, conn: AsyncConnection, params: dict[str, Any]) -> Any | None:
        dialect = conn.dialect
        if dialect.driver != "aiosqlite":
            return (await conn.execute(self.statement, params)).first()
        compiled, sql, binds, results, row_type = self._prepare(dialect)
        values = compiled.construct_params(params)
        positional = tuple(
            value if process is None else process(value)
            for value, process in ((values[name], process) for name, process in binds)
        )
        raw = await conn.get_raw_connection()
        rows = await raw.driver_connection.execute_fetchall(sql, positional)
        if not rows:
            return None
        return row_type._make(value if process is None else process(value) for value, process in zip(rows[0], results))

    def _prepare(self, dialect: Dialect) -> tuple[Any, ...]:
        prepared = self._prepared.get(dialect)
        if prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = tuple(
                (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in compiled.positiontup or ()
            )
            columns = list(self.statement.selected_columns)
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
            row_type = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
            prepared = self._prepared[dialect] = (compiled, compiled.string, binds, results, row_type)
        return prepared


_PRINCIPAL = OneRowQuery(
    select(api_keys.c.id, api_keys.c.account_id, api_keys.c.active, api_keys.c.rate_limits).where(
        api_keys.c.key_hash == bindparam("key_hash")
    )
)


async def find_principal(conn: AsyncConnection, token: str) -> KeyPrincipal | None:
    row = await _PRINCIPAL.first(conn, {"key_hash": hash_api_key(token)})
    if row is None:
        return None
    return KeyPrincipal(key_id=row.id, account_id=row.account_id, active=row.active, rate_limits=row.rate_limits or {})


async def list_keys(conn: AsyncConnection, account_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(api_keys.c.id, api_keys.c.prefix, api_keys.c.active, api_keys.c.rate_limits,
               api_keys.c.created_at, api_keys.c.deactivated_at)
        .where(api_keys.c.account_id == account_id)
        .order_by(api_keys.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def resolve_key_id(conn: AsyncConnection, key_or_prefix: str) -> int:
    """A key named by its full token or by its display prefix; the prefix must be unambiguous."""
    rows = (
        await conn.execute(
            select(api_keys.c.id).where(
                or_(api_keys.c.key_hash == hash_api_key(key_or_prefix), api_keys.c.prefix == key_or_prefix)
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
    await conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(rate_limits=limits or None))


async def count_accounts(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(accounts)) or 0)
