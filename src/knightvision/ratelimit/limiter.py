"""The exact moving window (D5): in this process's memory, or on Redis through the ``limits``
library when several API processes share it."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import NamedTuple

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from knightvision.kit.metrics import rate_limited
from knightvision.pricing import RateLimitBucket

MIN_RETRY_AFTER = 10  # the contract: wait at least 10 seconds


class _PerMinute(RateLimitItemPerMinute):
    """One hit log per (bucket, identity) whatever the limit, so a changed per-key limit counts
    the hits already in the window (``limits`` puts the amount in the key by default)."""

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join([self.namespace, *(str(part) for part in identifiers), "minute"])


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

    def peek(self, key: tuple[str, str]) -> tuple[float, int, float]:
        """(time of the oldest hit in the window, hits in the window, now)."""
        now = time.time()
        hits = self._current(key, now)
        return (hits[0], len(hits), now) if hits else (now, 0, now)

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
    def __init__(self, redis_url: str | None = None) -> None:
        self.storage = _storage(redis_url)
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._items: dict[int, RateLimitItemPerMinute] = {}
        # In memory (one API process) the windows are kept here; ``limits`` serves the shared Redis.
        self._memory = None if redis_url else _MemoryWindows()

    def _item(self, per_minute: int) -> RateLimitItemPerMinute:
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = _PerMinute(per_minute, namespace="KV")
        return item

    async def hit(self, bucket: RateLimitBucket, identity: str, per_minute: int) -> Decision:
        """Count one request; refused when the last 60 s already hold ``per_minute`` of them."""
        if self._memory is not None:
            allowed, oldest, count, now = self._memory.hit((bucket, identity), per_minute)
            return _counted(
                bucket,
                Decision(
                    allowed, per_minute, max(0, per_minute - count), _reset_seconds(oldest, now)
                ),
            )
        item = self._item(per_minute)
        allowed = await self._strategy.hit(item, bucket, identity)
        stats = await self._strategy.get_window_stats(item, bucket, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return _counted(
            bucket,
            Decision(
                allowed=allowed,
                limit=per_minute,
                remaining=max(0, stats.remaining),
                reset_seconds=reset,
            ),
        )

    async def exceeded(
        self, bucket: RateLimitBucket, identity: str, per_minute: int
    ) -> Decision | None:
        """Without counting: the refusal a new hit would get, or None while under the limit."""
        if self._memory is not None:
            oldest, count, now = self._memory.peek((bucket, identity))
            if count < per_minute:
                return None
            return _counted(bucket, Decision(False, per_minute, 0, _reset_seconds(oldest, now)))
        item = self._item(per_minute)
        if await self._strategy.test(item, bucket, identity):
            return None
        stats = await self._strategy.get_window_stats(item, bucket, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return _counted(
            bucket, Decision(allowed=False, limit=per_minute, remaining=0, reset_seconds=reset)
        )

    async def reset(self) -> None:
        if self._memory is not None:
            self._memory.reset()
        await self.storage.reset()


def _storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    shared = storage_from_string(f"async+{redis_url}", implementation="redispy")
    assert isinstance(shared, Storage)  # an "async+" URL builds an asyncio storage
    return shared


def _reset_seconds(oldest_hit: float, now: float) -> int:
    """Whole seconds until the oldest hit in the window leaves it."""
    return max(0, math.ceil(oldest_hit + WINDOW_SECONDS - now))


def _counted(bucket: RateLimitBucket, decision: Decision) -> Decision:
    """A refusal is a 429 answered: counted by the limit that refused (``/metrics``)."""
    if not decision.allowed:
        rate_limited(bucket.value)
    return decision
