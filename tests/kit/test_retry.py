"""Bounded retries: attempts, deadline, and honoured (or refused) server waits."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from knightvision.kit.retry import RetryLater, call_with_retries, check_retry_settings


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 8.0
    max_retry_after: float = 30.0


class Flaky:
    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[float] = []

    def __call__(self, remaining: float) -> object:
        self.calls.append(remaining)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def run(try_once, policy: Policy = Policy(), seconds: float = 100.0):
    sleeps: list[float] = []
    result = call_with_retries(
        try_once,
        settings=policy,
        deadline=time.monotonic() + seconds,
        timed_out=lambda: TimeoutError("deadline"),
        sleep=sleeps.append,
    )
    return result, sleeps


def test_retries_with_jittered_backoff_then_succeeds() -> None:
    flaky = Flaky(RetryLater(OSError("a")), RetryLater(OSError("b")), "ok")
    result, sleeps = run(flaky)
    assert result == "ok" and len(flaky.calls) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_server_wait_is_honoured_within_the_cap_and_refused_beyond_it() -> None:
    result, sleeps = run(Flaky(RetryLater(OSError("busy"), retry_after=3.0), "ok"))
    assert (result, sleeps) == ("ok", [3.0])
    with pytest.raises(OSError, match="quota"):
        run(Flaky(RetryLater(OSError("quota"), retry_after=120.0), "never"))


def test_last_error_surfaces_when_attempts_run_out_and_other_errors_pass_through() -> None:
    with pytest.raises(OSError, match="third"):
        run(
            Flaky(
                RetryLater(OSError("first")),
                RetryLater(OSError("second")),
                RetryLater(OSError("third")),
            )
        )
    with pytest.raises(ValueError, match="fatal"):
        run(Flaky(ValueError("fatal"), "never"))


def test_a_wait_past_the_deadline_gives_up_and_a_spent_deadline_times_out() -> None:
    with pytest.raises(OSError, match="slow"):
        run(Flaky(RetryLater(OSError("slow"), retry_after=5.0), "never"), seconds=2.0)
    with pytest.raises(TimeoutError):
        run(Flaky("never"), seconds=-1.0)


def test_settings_need_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        check_retry_settings(Policy(max_attempts=0))
