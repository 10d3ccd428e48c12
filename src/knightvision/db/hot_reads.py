"""Point reads on the request hot path: the key lookup and the status read (ADR 0003).

On SQLite (the embedded default) they run on the event loop's own thread through one plain,
read-only ``sqlite3`` connection: a primary-key or unique-index lookup in a WAL database takes
tens of microseconds, far less than one hand-off to aiosqlite's thread (a queue put, a thread
wake-up and a GIL hand-back, about seven of them per SQLAlchemy execute). Each SELECT runs in
autocommit mode, so it sees every committed write at once (a deactivated key is refused on its
very next request, D3). On PostgreSQL they take SQLAlchemy's ordinary async path.

Same SQL (compiled once by SQLAlchemy for the dialect), same bind and result processing (the
columns' own processors: JSON, Boolean, DateTime), so a row equals what
``(await conn.execute(q)).first()`` gives, value for value; rows are named tuples.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine


class OneRowQuery:
    """A SELECT whose first row is all a hot-path caller needs."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._prepared: dict[str, tuple[Any, ...]] = {}

    def run_sqlite(self, connection: sqlite3.Connection, dialect: Dialect, params: dict[str, Any]) -> Any | None:
        compiled, sql, binds, results, row_type = self._prepare(dialect)
        values = compiled.construct_params(params)
        positional = tuple(values[name] if process is None else process(values[name]) for name, process in binds)
        row = connection.execute(sql, positional).fetchone()
        if row is None:
            return None
        return row_type._make(value if process is None else process(value) for value, process in zip(row, results))

    def _prepare(self, dialect: Dialect) -> tuple[Any, ...]:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = tuple(
                (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                for name in compiled.positiontup or ()
            )
            columns = list(self.statement.selected_columns)
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
            row_type = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
            prepared = self._prepared[dialect.name] = (compiled, compiled.string, binds, results, row_type)
        return prepared


class HotReads:
    """Runs ``OneRowQuery``s against one database, by the fastest path its driver allows."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._connection: sqlite3.Connection | None = None

    async def first(self, query: OneRowQuery, params: dict[str, Any]) -> Any | None:
        if self._sqlite_path is None:
            async with self.engine.connect() as conn:
                return (await conn.execute(query.statement, params)).first()
        return query.run_sqlite(self._sqlite(), self.engine.dialect, params)

    def _sqlite(self) -> sqlite3.Connection:
        if self._connection is None:
            # Only ever used from the event loop's thread, one statement at a time.
            connection = sqlite3.connect(self._sqlite_path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=2000")
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
