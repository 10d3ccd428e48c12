"""The hot path's point reads on PostgreSQL: one round trip each (ADR 0004).

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
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL

from knightvision.db.engine import LINK_TIMEOUTS


class ReadTimedOutError(psycopg.OperationalError):
    """The server did not answer in time (a dead link gives no error of its own)."""


class PostgresPointReads:
    def __init__(self, url: URL, size: int, *, timeout_seconds: float = 5.0) -> None:
        self._conninfo = make_conninfo(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            connect_timeout=max(1, round(timeout_seconds)),
            **LINK_TIMEOUTS,
        )
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
                return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except TimeoutError as exc:
            raise ReadTimedOutError("no answer from PostgreSQL in time") from exc

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


#: A value that changes whenever any transaction that wrote anything commits: the set of
#: transactions in progress and the next transaction id. Two equal snapshots mean no write
#: committed between them (a transaction that commits leaves the in-progress set, and one that
#: began after the first snapshot raised the next id), in any database of the server.
SNAPSHOT_SQL = "SELECT pg_current_snapshot()::text"


class CommitWatch:
    """Exact "has any write committed since?" for the hot-path row cache, one round trip shared
    by every request waiting for it (ADR 0004).

    A caller takes a ``mark()`` when its request arrives and asks ``version(mark)``: it gets the
    snapshot of a check that *started after* the mark (the last finished one if it qualifies, else
    the running one if it does, else the next, started on the next loop turn so that the whole
    turn's requests share it). A row read after a check and cached under its snapshot is still
    what a SELECT would return while later checks return the same snapshot.
    """

    def __init__(self, reads: PostgresPointReads, max_running: int = 2) -> None:
        self._reads = reads
        self._max_running = max_running
        self._started = 0
        self._done: tuple[int, str] = (0, "")
        # Each waiter has its own future, so one that is cancelled leaves the others waiting.
        self._running: dict[int, list[asyncio.Future[tuple[int, str]]]] = {}
        self._next: list[asyncio.Future[tuple[int, str]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak refs

    def mark(self) -> int:
        """Checks numbered from this one on start after this call."""
        return self._started + 1

    async def version(self, since: int) -> tuple[int, str]:
        """(check number, snapshot) of a check numbered ``since`` or later."""
        if self._done[0] >= since:
            return self._done
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, str]] = loop.create_future()
        newest = self._running.get(self._started) if self._started >= since else None
        if newest is not None:  # the newest check is running and started after the mark
            newest.append(waiter)
        elif self._next is not None:
            self._next.append(waiter)
        else:
            # Started on the next loop turn, so that every request of this turn shares it; up to
            # ``max_running`` checks overlap, so a request waits about one round trip, not two.
            self._next = [waiter]
            loop.call_soon(self._start)
        return await waiter

    def _start(self) -> None:
        if self._next is None or len(self._running) >= self._max_running:
            return  # a check that ends starts the next
        waiters, self._next = self._next, None
        self._started += 1
        self._running[self._started] = waiters
        task = asyncio.get_running_loop().create_task(self._check(self._started, waiters))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, number: int, waiters: list[asyncio.Future[tuple[int, str]]]) -> None:
        try:
            row = await self._reads.fetch_one(SNAPSHOT_SQL, {})
        except asyncio.CancelledError:
            for waiter in waiters:
                waiter.cancel()
            raise
        except Exception as exc:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
        else:
            assert row is not None  # the function always returns a row
            done = (number, str(row[0]))
            if number > self._done[0]:
                self._done = done
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(done)
        finally:
            del self._running[number]
            self._start()
