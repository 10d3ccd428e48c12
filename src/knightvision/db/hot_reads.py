"""Point reads on the request hot path: the key lookup and the status read (ADR 0003).

On SQLite (the embedded default) they run on the event loop's own thread through one plain,
read-only ``sqlite3`` connection: a primary-key or unique-index lookup in a WAL database takes
tens of microseconds, far less than one hand-off to aiosqlite's thread (a queue put, a thread
wake-up and a GIL hand-back, about seven of them per SQLAlchemy execute). Each SELECT runs in
autocommit mode and its row is kept only until the next commit anywhere (``HotReads``), so a
deactivated key is refused on its very next request (D3). On PostgreSQL they go through
``PostgresPointReads`` (``db/pg_reads.py``): psycopg directly, prepared statements, autocommit,
one round trip per read (ADR 0004).

Same SQL (compiled once by SQLAlchemy for the dialect), same bind and result processing (the
columns' own processors: JSON, Boolean, DateTime), so a row equals what
``(await conn.execute(q)).first()`` gives, value for value; rows are named tuples.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import namedtuple
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.db.pg_reads import CommitWatch, PostgresPointReads

#: On PostgreSQL, the commit-watch mark taken when the current request arrived (``begin_request``).
_REQUEST_MARK: ContextVar[int | None] = ContextVar("hot_reads_request_mark", default=None)
_MISSING = object()


class OneRowQuery:
    """A SELECT whose first row is all a hot-path caller needs, optionally built into the object
    the caller wants (built once per read, so a cached row is not rebuilt per request)."""

    def __init__(self, statement: Select[Any], build: Callable[[Any], Any] | None = None) -> None:
        self.statement = statement
        self.build = build
        self._prepared: dict[str, tuple[Any, ...]] = {}

    def built(self, row: Any | None) -> Any | None:
        return row if row is None or self.build is None else self.build(row)

    def run_sqlite(
        self, connection: sqlite3.Connection, dialect: Dialect, params: dict[str, Any]
    ) -> Any | None:
        sql, positional_of, row_of = self._prepare(dialect)
        row = connection.execute(sql, positional_of(params)).fetchone()
        return self.built(None if row is None else row_of(row))

    async def run_postgres(
        self, reads: PostgresPointReads, dialect: Dialect, params: dict[str, Any]
    ) -> Any | None:
        sql, named_of, row_of = self._prepare(dialect)
        row = await reads.fetch_one(sql, named_of(params))
        return self.built(None if row is None else row_of(row))

    def _prepare(self, dialect: Dialect) -> tuple[Any, ...]:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = (
                _positional_binds(compiled, dialect)
                if compiled.positiontup is not None
                else _named_binds(compiled, dialect)
            )
            prepared = self._prepared[dialect.name] = (
                compiled.string,
                binds,
                _row_builder(self.statement, dialect),
            )
        return prepared


def _positional_binds(compiled: Any, dialect: Dialect) -> Any:
    """params -> the positional tuple the driver takes, literals and bind processors applied."""
    # The statement's own literal values (``kind == "video"``); the caller gives the rest.
    defaults = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    binds = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup or ()
    )

    def positional_of(params: dict[str, Any]) -> tuple[Any, ...]:
        values = {**defaults, **params}
        return tuple(
            values[name] if process is None else process(values[name]) for name, process in binds
        )

    return positional_of


def _named_binds(compiled: Any, dialect: Dialect) -> Any:
    """params -> the named parameters a pyformat driver (psycopg) takes, processors applied."""
    processors = {
        name: process
        for bind, name in compiled.bind_names.items()
        if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }

    def named_of(params: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = compiled.construct_params(params)
        for name, process in processors.items():
            values[name] = process(values[name])
        return values

    return named_of


def _row_builder(statement: Select[Any], dialect: Dialect) -> Any:
    """A driver row -> a named tuple of the columns' Python values
    (their result processors applied)."""
    columns = list(statement.selected_columns)
    row_type = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
    processed = tuple(
        (index, process)
        for index, column in enumerate(columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
        is not None
    )
    make = tuple.__new__

    def row_of(row: tuple[Any, ...]) -> Any:
        if not processed:
            return make(row_type, row)
        values = list(row)
        for index, process in processed:
            values[index] = process(values[index])
        return make(row_type, values)

    return row_of


class HotReads:
    """Runs ``OneRowQuery``s against one database, by the fastest path its driver allows.

    On SQLite, rows read are kept until any connection commits a write: ``PRAGMA data_version``
    changes on every commit by another connection, in this process or any other, so a cached row
    is what the SELECT would return now. Rows are shared between callers: never mutate one.

    The pragma takes a read lock (two system calls), so one check serves every read until the
    event loop gets back to the callbacks queued after it. That is still exact: a callback that
    runs before then was queued before the check, so its request arrived before the check and
    may see the database as of the check; a commit that ends after the check can reach this
    loop (a socket, an executor thread, ``call_soon_threadsafe``) only through a callback
    queued behind the re-check. A key deactivated before a request is sent is refused (D3).
    One instance serves one event loop (the server's), as its connection serves one thread.
    """

    def __init__(
        self, engine: AsyncEngine, max_cached_rows: int = 10_000, postgres_pool_size: int = 5
    ) -> None:
        self.engine = engine
        self._sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._postgres = (
            PostgresPointReads(engine.url, postgres_pool_size)
            if engine.dialect.name == "postgresql"
            else None
        )
        self._commits = CommitWatch(self._postgres) if self._postgres is not None else None
        self._snapshot: tuple[int, str] = (0, "")  # the check the PostgreSQL rows are kept under
        self._connection: sqlite3.Connection | None = None
        self._rows: dict[tuple[Any, ...], Any] = {}
        self._data_version: int | None = None
        self._version_checked = False
        self._max_cached_rows = max_cached_rows

    def begin_request(self) -> None:
        """Called when a request arrives (the guard): its reads may share a commit check started
        after this point. Without it every read waits for a check of its own."""
        if self._commits is not None:
            _REQUEST_MARK.set(self._commits.mark())

    async def first(self, query: OneRowQuery, params: dict[str, Any]) -> Any | None:
        if self._postgres is not None:
            return await self._first_postgres(query, params)
        if self._sqlite_path is None:
            async with self.engine.connect() as conn:
                return query.built((await conn.execute(query.statement, params)).first())
        connection = self._sqlite()
        if not self._version_checked:
            self._check_version(connection)
        key = (query, *params.items())
        try:
            return self._rows[key]
        except KeyError:
            pass
        row = query.run_sqlite(connection, self.engine.dialect, params)
        if len(self._rows) >= self._max_cached_rows:
            self._rows.clear()
        self._rows[key] = row
        return row

    async def _first_postgres(self, query: OneRowQuery, params: dict[str, Any]) -> Any | None:
        """Rows are kept while the server's snapshot stays the same (``CommitWatch``): a cached
        row is served only under a check that started after the request arrived."""
        assert self._postgres is not None and self._commits is not None
        mark = _REQUEST_MARK.get()
        number, snapshot = await self._commits.version(
            self._commits.mark() if mark is None else mark
        )
        key = (query, *params.items())
        if snapshot == self._snapshot[1]:
            row = self._rows.get(key, _MISSING)
            if row is not _MISSING:
                return row
        elif number > self._snapshot[0]:
            self._rows.clear()
            self._snapshot = (number, snapshot)
        row = await query.run_postgres(self._postgres, self.engine.dialect, params)
        if snapshot == self._snapshot[1]:  # nothing committed since: still current
            if len(self._rows) >= self._max_cached_rows:
                self._rows.clear()
            self._rows[key] = row
        return row

    def _check_version(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._rows.clear()
            self._data_version = version
        self._version_checked = True
        asyncio.get_running_loop().call_soon(self._recheck)

    def _recheck(self) -> None:
        self._version_checked = False

    def _sqlite(self) -> sqlite3.Connection:
        if self._connection is None:
            assert self._sqlite_path is not None  # only called on SQLite
            # Only ever used from the event loop's thread, one statement at a time.
            connection = sqlite3.connect(
                self._sqlite_path, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=2000")
            self._connection = connection
        return self._connection

    async def aclose(self) -> None:
        self.close()
        if self._postgres is not None:
            await self._postgres.close()

    def close(self) -> None:
        # data_version numbers belong to one connection: the next one starts afresh.
        self._rows.clear()
        self._data_version = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
