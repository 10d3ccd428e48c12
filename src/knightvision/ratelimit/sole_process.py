"""Without Redis the rate limits live in one API process's memory, so a second API process on the
same database would silently double every limit. ``sole_api_process`` refuses to start it
(ADR 0004): the first holds a lock for its whole life, on the database itself (a PostgreSQL
session advisory lock) or beside it (an ``flock`` on a file next to the SQLite database), and the
lock goes with the process, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from knightvision.errors import OperatorError
from knightvision.settings import Settings

#: The advisory lock's key: any constant agreed by every API process of this build.
_ADVISORY_KEY = 0x4B56_4C494D  # "KV", "LIM"

REFUSAL = (
    "another API process already serves this database with its rate limits in memory; a second"
    " one would double every limit. Give every API process the same KNIGHTVISION_REDIS_URL to"
    " share the limits (see docs/adr/0004-dependencies-that-fail-well.md)"
)


@contextmanager
def sole_api_process(settings: Settings) -> Iterator[None]:
    """Held while this API process serves; a no-op when the limits are shared on Redis."""
    if settings.redis_url:
        yield
        return
    url = make_url(settings.async_database_url)
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(url.set(drivername="postgresql").render_as_string(False)):
            yield
    else:
        assert url.database is not None  # the settings always name the SQLite file
        with _file_lock(Path(url.database + ".api-lock")):
            yield


@contextmanager
def _advisory_lock(conninfo: str) -> Iterator[None]:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (_ADVISORY_KEY,)).fetchone()
        if not row or not row[0]:
            raise OperatorError(REFUSAL)
        yield  # the session keeps the lock; closing it releases it


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperatorError(REFUSAL) from None
        yield
    finally:
        os.close(descriptor)
