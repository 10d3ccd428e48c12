"""An unreachable database: what it raises, and waiting one out (ADR 0004)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import psycopg
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.db.engine import read_transaction, write_transaction
from knightvision.kit.backoff import retry_delay

log = logging.getLogger("knightvision.db")

T = TypeVar("T")

#: What a database that cannot be reached raises: connection refused or lost, a timeout, a pool
#: with no connection to give (and, on SQLite, a write lock held past its busy timeout).
DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
)

#: Between two tries while the database is away: short, as a refused connection costs nothing,
#: so a write lands within a second of the database coming back.
_RETRY_BASE_SECONDS = 0.25
_RETRY_CAP_SECONDS = 1.0


def brief(exc: BaseException) -> str:
    """One line for the log: the error's type and first line, no traceback."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


async def through_outages(write: Callable[[], Awaitable[T]], *, patience: float, what: str) -> T:
    """``write()``, tried again while the database is unreachable, for up to ``patience`` seconds
    (then its last error). Only for writes that are harmless to repeat: one whose answer was lost
    may have landed."""
    deadline = time.monotonic() + patience
    tries = 0
    while True:
        try:
            result = await write()
        except DATABASE_UNREACHABLE as exc:
            tries += 1
            wait = retry_delay(tries, base=_RETRY_BASE_SECONDS, cap=_RETRY_CAP_SECONDS)
            if time.monotonic() + wait > deadline:
                raise
            if tries == 1:
                log.warning(
                    "%s: database unreachable, trying again for up to %g s (%s)",
                    what,
                    patience,
                    brief(exc),
                )
            await asyncio.sleep(wait)
        else:
            if tries:
                log.info("%s: written after %d tries", what, tries + 1)
            return result


@asynccontextmanager
async def settled_transaction(
    engine: AsyncEngine,
    landed: Callable[[AsyncConnection], Awaitable[bool]],
    *,
    patience: float,
    what: str,
) -> AsyncIterator[AsyncConnection]:
    """A write transaction whose outcome is known even when the connection is lost while it
    commits. PostgreSQL may have committed a transaction whose answer never came back, so an
    error from the commit proves nothing. ``landed(connection)`` looks for what the transaction
    wrote, as soon as the database answers again (for up to ``patience`` seconds): found, the
    transaction is done and no error is raised; not found, or the database still away, the
    commit's error is."""
    statements_done = False
    try:
        async with write_transaction(engine) as connection:
            yield connection
            statements_done = True
    except DATABASE_UNREACHABLE as exc:
        if not statements_done:  # it failed before its commit: rolled back
            raise
        try:
            committed = await through_outages(
                lambda: _landed(engine, landed), patience=patience, what=f"{what}: the check"
            )
        except DATABASE_UNREACHABLE:
            log.error(
                "%s: the database was lost while it committed and stayed away for %g s: whether "
                "it committed is unknown (%s)",
                what,
                patience,
                brief(exc),
            )
            raise exc from None
        if not committed:
            raise
        log.warning(
            "%s: the database was lost while it committed, and it had (%s)", what, brief(exc)
        )


async def _landed(
    engine: AsyncEngine, landed: Callable[[AsyncConnection], Awaitable[bool]]
) -> bool:
    async with read_transaction(engine) as connection:
        return await landed(connection)
