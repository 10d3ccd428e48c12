"""``GET /readyz``: is each dependency this API process needs answering right now (ADR 0004)?

Liveness (``/healthz``) says only that the process serves; readiness asks the database, Redis
(when configured) and the storage, each within a short timeout, so a load balancer stops sending
traffic to a host that would answer 503 and sends it again once the dependency is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from knightvision.container import Container

CHECK_TIMEOUT_SECONDS = 2.0
READINESS_KEY = "probes/readiness.txt"

log = logging.getLogger("knightvision.api")


async def _database(container: Container) -> None:
    async with container.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(container: Container) -> None:
    await container.limiter.ping()


async def _storage(container: Container) -> None:
    # A look-up of a key that is never stored: the store answers "not there", or fails.
    await asyncio.to_thread(container.storage.stat, READINESS_KEY)


async def readiness(container: Container) -> dict[str, str]:
    """Each dependency's state: "ok" or "unavailable" (why is logged: the endpoint is public, and
    hosts and ports are nobody else's business)."""
    checks: dict[str, Callable[[Container], Awaitable[None]]] = {"database": _database}
    if container.settings.redis_url:
        checks["redis"] = _redis
    checks["storage"] = _storage
    results = await asyncio.gather(
        *(_state(name, check(container)) for name, check in checks.items())
    )
    return dict(zip(checks, results, strict=True))


async def _state(name: str, check: Awaitable[None]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check
    except TimeoutError:
        log.warning("not ready: %s gave no answer within %g s", name, CHECK_TIMEOUT_SECONDS)
        return "unavailable"
    except Exception as exc:  # any failure is "not ready"; the reason is for the operator
        log.warning("not ready: %s: %s: %s", name, type(exc).__name__, exc)
        return "unavailable"
    return "ok"
