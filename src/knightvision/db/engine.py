"""Async engines for SQLite (WAL, embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_WRITE = "knightvision_write"

#: libpq settings that drop a PostgreSQL connection whose link went silent (a partition, a
#: server that vanished without a reset) within seconds, not the kernel's default minutes.
LINK_TIMEOUTS = {
    "tcp_user_timeout": 10_000,  # ms that sent data may stay unacknowledged
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 2,
}


def create_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 5, connect_timeout: int = 5
) -> AsyncEngine:
    """``pool_size`` + ``max_overflow`` bound this process's PostgreSQL connections on the
    ordinary path (the sizing rule is in the README); SQLite keeps SQLAlchemy's defaults."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine.sync_engine)
        return engine
    # A short connect timeout and a bounded wait for a pooled connection: with the database
    # unreachable a request fails within seconds (503, api/errors.py) instead of hanging.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=connect_timeout,
        pool_pre_ping=True,
        connect_args={"connect_timeout": connect_timeout, **LINK_TIMEOUTS},
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, emit BEGIN, so write transactions can take the write
        # lock up front (BEGIN IMMEDIATE) instead of failing to upgrade a read lock later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: on SQLite it holds the write lock from its first statement."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{_WRITE: True})
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        yield connection
