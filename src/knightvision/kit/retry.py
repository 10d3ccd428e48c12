"""Bounded retries of one blocking call: by attempts, by a deadline, and by how long a server
asks us to wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from knightvision.kit.backoff import retry_delay

T = TypeVar("T")


class RetrySettings(Protocol):
    """The retry fields a client's config carries."""

    @property
    def max_attempts(self) -> int: ...

    @property
    def backoff_base(self) -> float: ...

    @property
    def backoff_cap(self) -> float: ...

    @property
    def max_retry_after(self) -> float: ...  # a server asking for longer is given up on


class RetryLater(Exception):
    """Raised by one try to ask for another. ``error`` is what the caller sees when none is left;
    ``retry_after`` is the server's hint (None: a jittered backoff)."""

    def __init__(self, error: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def check_retry_settings(settings: RetrySettings) -> None:
    if settings.max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")


def call_with_retries(
    try_once: Callable[[float], T],
    *,
    settings: RetrySettings,
    deadline: float,
    timed_out: Callable[[], Exception],
    sleep: Callable[[float], None],
) -> T:
    """``try_once(remaining_seconds)`` until it returns, raises something other than ``RetryLater``,
    or no attempt, time or acceptable wait is left (then the last ``RetryLater.error`` is raised).
    ``deadline`` is a ``time.monotonic()`` time; ``timed_out`` makes the error for reaching it."""
    for attempt in range(1, settings.max_attempts + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise timed_out()
        try:
            return try_once(remaining)
        except RetryLater as retry:
            request = retry
        # Raised outside the except block, so the error carries no RetryLater context.
        if attempt == settings.max_attempts:
            raise request.error
        if request.retry_after is None:
            wait = retry_delay(attempt, base=settings.backoff_base, cap=settings.backoff_cap)
        elif request.retry_after <= settings.max_retry_after:
            wait = request.retry_after
        else:
            raise request.error
        if wait >= deadline - time.monotonic():
            raise request.error
        sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises
