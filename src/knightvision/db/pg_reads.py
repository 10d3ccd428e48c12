"""The hot path's point reads on PostgreSQL: one round trip each (issue 11; ADR 0004).

SQLAlchemy's ordinary async path costs a pool checkout, a BEGIN, the statement and the pool's
reset ROLLBACK per read, and psycopg parses and plans the SELECT every time. Here each read takes
an idle psycopg connection in autocommit mode (no transaction to open or roll back) and runs a
server-side prepared statement: one round trip, no planning after the first. At most ``size``
connections are open; a read that finds them all busy waits for one.

A connection that fails is closed, never reused: the next read opens a fresh one, so the API
recovers by itself when the server comes back. A read that failed on a connection that sat idle
(the server restarted meanwhile) is retried once on a fresh connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from sqlalchemy.engine import URL


class ReadTimedOutError(psycopg.OperationalError):
    """The server did not answer in time (a dead link gives no error of its own)."""


class PostgresPointReads:
    def __init__(self, url: URL, size: int, *, timeout_seconds: float = 5.0) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._timeout = timeout_seconds
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots: asyncio.Semaphore | None = None

    async def fetch_one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        if self._slots is None:  # made on first use, inside the server's event loop
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else await self._connect()
            try:
                row = await self._run(connection, sql, params)
            except psycopg.OperationalError as exc:
                await connection.close()
                if not reused or isinstance(exc, ReadTimedOutError):
                    raise
                connection = await self._connect()  # the idle one had gone stale
                try:
                    row = await self._run(connection, sql, params)
                except BaseException:
                    await connection.close()
                    raise
            except BaseException:  # cancelled or timed out mid-statement: its state is unknown
                await connection.close()
                raise
            self._idle.append(connection)
            return row

    async def _run(
        self, connection: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        try:
            async with asyncio.timeout(self._timeout):
                cursor = await connection.execute(sql, params, prepare=True)
                return await cursor.fetchone()
        except TimeoutError as exc:
            raise ReadTimedOutError("no answer from PostgreSQL in time") from exc

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        try:
            async with asyncio.timeout(self._timeout):
                return await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=max(1, round(self._timeout))
                )
        except TimeoutError as exc:
            raise ReadTimedOutError("no answer from PostgreSQL in time") from exc

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
