"""Before a server or worker starts: can it reach its database, Redis and storage?

Each failure is one line naming what is unreachable and why (``OperatorError``), where the start
would otherwise die inside the ASGI lifespan with a page of traceback.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from knightvision.db.migrate import prepare_schema
from knightvision.errors import OperatorError
from knightvision.settings import Settings

CONNECT_TIMEOUT_SECONDS = 5


def check_dependencies(settings: Settings) -> None:
    """Migrate an embedded SQLite (and check a shared database's schema); ping Redis; write to
    storage. Raises ``OperatorError`` on the first that fails."""
    _check_database(settings.async_database_url, settings.database_url)
    if settings.redis_url:
        _check_redis(settings.redis_url)
    _check_storage(settings.media_root)


def _check_database(url: str, given: str | None) -> None:
    try:
        prepare_schema(url)
    except OperatorError:
        raise
    except Exception as exc:
        raise database_failure("use", url, given, exc) from None


def database_failure(doing: str, url: str, given: str | None, exc: BaseException) -> OperatorError:
    """One line: what could not be done to which database (as the operator wrote its URL,
    without the password), and the driver's reason."""
    return OperatorError(
        f"cannot {doing} the database {hidden_password(given or url)}: {reason(exc)}"
    )


def _check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except Exception as exc:
        raise OperatorError(
            f"cannot reach Redis at {hidden_password(url)}: {reason(exc)}"
        ) from None
    finally:
        client.close()


def _check_storage(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise OperatorError(f"cannot write to the storage at {root}: {reason(exc)}") from None


def hidden_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def reason(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy wraps it, with a link, on more lines)."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return (lines[0] if lines else type(cause).__name__)[:300]
