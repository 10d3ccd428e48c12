"""Log lines once per client, not once per request: for warnings about what clients do, which a
client could otherwise repeat to flood the log."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class OncePerKey:
    """``first(key)`` is True the first time ``key`` is seen, and again once ``seconds`` have
    passed. At most ``capacity`` keys are remembered: when that many are still live, new keys
    get False (quiet rather than unbounded memory; a metric counts what the log leaves out)."""

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self._clock = clock
        self._until: dict[str, float] = {}

    def first(self, key: str, seconds: float = math.inf) -> bool:
        now = self._clock()
        until = self._until.get(key)
        if until is not None and until > now:
            return False
        if until is None and len(self._until) >= self.capacity:
            self._forget_expired(now)
            if len(self._until) >= self.capacity:
                return False
        self._until[key] = now + seconds
        return True

    def _forget_expired(self, now: float) -> None:
        for key in [key for key, until in self._until.items() if until <= now]:
            del self._until[key]
