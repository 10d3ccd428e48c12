"""Fast pickup on PostgreSQL: a job that becomes runnable now is announced with ``NOTIFY``, and
workers ``LISTEN`` so they claim it at once instead of at their next poll (ADR 0001).

The notification is sent inside the transaction that makes the job runnable, so PostgreSQL delivers
it only on commit: a woken worker always finds the job. Polling stays the fallback (SQLite, a lost
listener connection, a job whose ``run_after`` lies in the future), so a missed notification delays
a job by one poll interval and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("knightvision.worker")

CHANNEL = "knightvision_jobs"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :kind)")

# After a lost listener connection, try again this often (polling covers the gap).
RECONNECT_SECONDS = 2.0


async def announce(conn: AsyncConnection, kind: str) -> None:
    """Tell listening workers a ``kind`` job is runnable, once ``conn``'s transaction commits."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY, {"kind": kind})


def listener_conninfo(url: URL) -> str | None:
    """The libpq connection string to listen on, or None where there is nothing to listen to."""
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_jobs(
    conninfo: str, kinds: list[str], wake: Callable[[], None], stop: asyncio.Event
) -> None:
    """Call ``wake`` whenever a job of one of ``kinds`` is announced, until ``stop``.

    One connection per worker process, outside the pool (it stays in ``LISTEN`` for the worker's
    life). A lost connection is reopened; every (re)connect wakes the worker once, since jobs may
    have been announced while nobody listened."""
    wanted = set(kinds)
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.debug("listening for new jobs on %s", CHANNEL)
                wake()
                async for notice in conn.notifies():
                    if notice.payload in wanted:
                        wake()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database restarted or the network broke: poll meanwhile
            log.warning("job listener lost its connection (%s); polling until it is back", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RECONNECT_SECONDS)
