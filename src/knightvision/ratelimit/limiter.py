"""A thin layer over the ``limits`` library's exact moving window: in memory, or Redis when shared."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter

MIN_RETRY_AFTER = 10  # the contract: wait at least 10 seconds


class _PerMinute(RateLimitItemPerMinute):
    """One hit log per (bucket, identity) whatever the limit, so a changed per-key limit counts
    the hits already in the window (``limits`` puts the amount in the key by default)."""

    def key_for(self, *identifiers: str) -> str:
        return "/".join([self.namespace, *(str(part) for part in identifiers), "minute"])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    @property
    def retry_after(self) -> int:
        return max(MIN_RETRY_AFTER, self.reset_seconds)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        self.storage: Storage = (
            storage_from_string(f"async+{redis_url}", implementation="redispy") if redis_url else MemoryStorage()
        )
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._items: dict[int, RateLimitItemPerMinute] = {}

    def _item(self, per_minute: int) -> RateLimitItemPerMinute:
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = _PerMinute(per_minute, namespace="KV")
        return item

    async def hit(self, bucket: str, identity: str, per_minute: int) -> Decision:
        """Count one request; refused when the last 60 s already hold ``per_minute`` of them."""
        item = self._item(per_minute)
        allowed = await self._strategy.hit(item, bucket, identity)
        stats = await self._strategy.get_window_stats(item, bucket, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed=allowed, limit=per_minute, remaining=max(0, stats.remaining), reset_seconds=reset)

    async def exceeded(self, bucket: str, identity: str, per_minute: int) -> Decision | None:
        """Without counting: the refusal a new hit would get, or None while under the limit."""
        item = self._item(per_minute)
        if await self._strategy.test(item, bucket, identity):
            return None
        stats = await self._strategy.get_window_stats(item, bucket, identity)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed=False, limit=per_minute, remaining=0, reset_seconds=reset)

    async def reset(self) -> None:
        await self.storage.reset()
