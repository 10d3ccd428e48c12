"""The exact moving window (D5): in this process's memory, or on Redis (``shared.py``) when
several API processes share it."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import NamedTuple

from knightvision.kit.metrics import rate_limited
from knightvision.pricing import RateLimitBucket
from knightvision.ratelimit.shared import RedisWindows

MIN_RETRY_AFTER = 10  # the contract: wait at least 10 seconds
WINDOW_SECONDS = 60.0


class _MemoryWindows:
    """The exact moving window in this process's memory: per (bucket, identity) the times of the
    hits of the last 60 s, oldest first; a hit is refused when ``limit`` of them are in the window
    (and is then not logged), exactly as ``limits``' moving window counts.

    Why not ``limits``' own MemoryStorage (ADR 0003): every hit inserts at the front of a Python
    list (O(hits in window)) under an asyncio lock, and schedules a background expiry that takes
    the lock and hops to a worker thread; on the request hot path that was a thread hop per hit.
    Here a hit is a few deque operations with no await; stale windows are swept once a minute.
    """

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._next_sweep = time.time() + WINDOW_SECONDS

    def _current(self, key: tuple[str, str], now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is not None:
            cutoff = now - WINDOW_SECONDS
            while hits and hits[0] < cutoff:
                hits.popleft()
        return hits

    def hit(self, key: tuple[str, str], limit: int) -> tuple[bool, float, int, float]:
        """(allowed, time of the oldest hit in the window, hits in the window, now)."""
        now = time.time()
        if now >= self._next_sweep:
            self._sweep(now)
        hits = self._current(key, now)
        if hits is None:
            hits = self._hits[key] = deque()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        return allowed, hits[0] if hits else now, len(hits), now

    def _sweep(self, now: float) -> None:
        for key in list(self._hits):
            if not self._current(key, now):
                del self._hits[key]
        self._next_sweep = now + WINDOW_SECONDS

    def reset(self) -> None:
        self._hits.clear()


class Decision(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def retry_after(self) -> int:
        return max(MIN_RETRY_AFTER, self.reset_seconds)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (D5), encoded for the ASGI reply."""
        return [
            (b"ratelimit-limit", b"%d" % self.limit),
            (b"ratelimit-remaining", b"%d" % self.remaining),
            (b"ratelimit-reset", b"%d" % self.reset_seconds),
        ]


class RateLimiter:
    """Per-minute moving windows: in memory with one API process, on Redis when ``redis_url`` is
    set (one round trip per decision, at most ``redis_max_connections`` connections)."""

    def __init__(self, redis_url: str | None = None, *, redis_max_connections: int = 8) -> None:
        self.shared = (
            RedisWindows(redis_url, max_connections=redis_max_connections) if redis_url else None
        )
        # In memory (one API process) the windows are kept here.
        self._memory = _MemoryWindows()

    async def hit(self, bucket: RateLimitBucket, identity: str, per_minute: int) -> Decision:
        """Count one request; refused when the last 60 s already hold ``per_minute`` of them."""
        if self.shared is None:
            allowed, oldest, count, now = self._memory.hit((bucket, identity), per_minute)
            return _counted(
                bucket,
                Decision(
                    allowed, per_minute, max(0, per_minute - count), _reset_seconds(oldest, now)
                ),
            )
        allowed, count, reset = await self.shared.decide(bucket, identity, per_minute)
        return _counted(bucket, Decision(allowed, per_minute, max(0, per_minute - count), reset))

    async def ping(self) -> None:
        """Raises when the shared store is unreachable (readiness); in memory it always answers."""
        if self.shared is not None:
            await self.shared.ping()

    async def reset(self) -> None:
        self._memory.reset()
        if self.shared is not None:
            await self.shared.reset()

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()


def _reset_seconds(oldest_hit: float, now: float) -> int:
    """Whole seconds until the oldest hit in the window leaves it."""
    return max(0, math.ceil(oldest_hit + WINDOW_SECONDS - now))


def _counted(bucket: RateLimitBucket, decision: Decision) -> Decision:
    """A refusal is a 429 answered: counted by the limit that refused (``/metrics``)."""
    if not decision.allowed:
        rate_limited(bucket.value)
    return decision
