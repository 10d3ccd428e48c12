"""The guessing throttles (ADR 0007): failed authentications and /static misses, per client address.

Only failures are counted and only failures are refused: a live key and an existing file are
never answered by a throttle. Past the limit a failure is answered 429 after a delay, which is
what slows guessing (one verdict a second per connection), at the cost of a sleeping task.
"""

from __future__ import annotations

import asyncio
import logging

from knightvision.errors import RateLimitedError
from knightvision.kit.notices import OncePerKey
from knightvision.pricing import RateLimitBucket
from knightvision.ratelimit.limiter import WINDOW_SECONDS, RateLimiter

log = logging.getLogger("knightvision.throttle")

#: Throttled addresses named in the log at once; past that, the 429 metric still counts them.
_ADDRESSES_REMEMBERED = 10_000


class AddressThrottle:
    """``failed(address)`` counts one failure; past ``per_minute`` in the moving window it raises
    429 after ``delay_seconds``. The address is named in one WARNING per window, not per
    request."""

    def __init__(
        self,
        limiter: RateLimiter,
        bucket: RateLimitBucket,
        per_minute: int,
        delay_seconds: float,
        failures: str,
    ) -> None:
        self.limiter = limiter
        self.bucket = bucket
        self.per_minute = per_minute
        self.delay_seconds = delay_seconds
        self.failures = failures  # what is counted, for the log line
        self._named = OncePerKey(_ADDRESSES_REMEMBERED)

    async def failed(self, address: str) -> None:
        decision = await self.limiter.hit(self.bucket, address, self.per_minute)
        if decision.allowed:
            return
        if self._named.first(address, WINDOW_SECONDS):
            log.warning(
                "client %s throttled: %d %s in the last 60 s; its further ones are answered 429"
                " after %.1f s (%s), while its valid requests are served as usual",
                address,
                self.per_minute,
                self.failures,
                self.delay_seconds,
                self.bucket.value,
            )
        if self.delay_seconds > 0:
            await asyncio.sleep(self.delay_seconds)
        raise RateLimitedError(retry_after=decision.retry_after)
