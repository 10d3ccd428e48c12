"""Moving-window limits (D5), in memory and on a real Redis shared by several API processes."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
import redis

from knightvision.pricing import RateLimitBucket
from knightvision.ratelimit.limiter import RateLimiter
from tests.fixtures.harness import API, running_harness

REDIS_URL = os.environ.get("KNIGHTVISION_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("KNIGHTVISION_REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"Redis not reachable: {exc}")
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    limiter = RateLimiter(_redis_or_skip() if request.param == "redis" else None)
    yield limiter
    await limiter.close()


async def test_exact_window_refuses_the_request_over_the_limit(limiter: RateLimiter) -> None:
    identity = secrets.token_hex(6)
    decisions = [await limiter.hit(RateLimitBucket.GENERATE_VIDEO, identity, 5) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    refused = decisions[-1]
    assert 55 <= refused.reset_seconds <= 60 and refused.retry_after == refused.reset_seconds
    assert refused.raw_headers() == [
        (b"ratelimit-limit", b"5"),
        (b"ratelimit-remaining", b"0"),
        (b"ratelimit-reset", str(refused.reset_seconds).encode()),
    ]
    other = await limiter.hit(
        "generate_video", secrets.token_hex(6), 5
    )  # another key: its own bucket
    assert other.allowed and other.remaining == 4
    other_endpoint = await limiter.hit(
        RateLimitBucket.VIDEOS, identity, 20
    )  # another endpoint: its own bucket
    assert other_endpoint.allowed


async def test_retry_after_is_at_least_ten_seconds(limiter: RateLimiter) -> None:
    identity = secrets.token_hex(6)
    await limiter.hit(RateLimitBucket.STATUS, identity, 1)
    assert (await limiter.hit(RateLimitBucket.STATUS, identity, 1)).retry_after >= 10


async def test_two_api_processes_share_one_redis_window(settings_factory) -> None:
    settings = settings_factory(redis_url=_redis_or_skip(), rate_limits={"videos": 3})
    async with running_harness(settings, run_workers=False) as first:
        await first.container.limiter.reset()  # key ids restart in every test database
        partner = await first.partner(credits=100)
        async with running_harness(settings, run_workers=False) as second:
            responses = [
                await (first if n % 2 else second).client.get(
                    f"{API}/videos", headers=partner["headers"]
                )
                for n in range(4)
            ]
        await first.container.limiter.reset()
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]


async def test_concurrent_hits_each_get_their_own_remaining(limiter: RateLimiter) -> None:
    """Decided atomically, one at a time: 30 requests at once against a limit of 25 are 25 allowed
    with remaining 24, 23, … 0 (each once) and 5 refused."""
    identity = secrets.token_hex(6)
    decisions = await asyncio.gather(
        *(limiter.hit(RateLimitBucket.VIDEOS, identity, 25) for _ in range(30))
    )
    allowed = [d.remaining for d in decisions if d.allowed]
    assert sorted(allowed) == list(range(25))
    assert [d.remaining for d in decisions if not d.allowed] == [0] * 5


async def test_a_lowered_limit_counts_the_hits_already_in_the_window(limiter: RateLimiter) -> None:
    identity = secrets.token_hex(6)
    for _ in range(4):
        assert (await limiter.hit(RateLimitBucket.VIDEOS, identity, 10)).allowed
    lowered = await limiter.hit(RateLimitBucket.VIDEOS, identity, 3)
    assert (lowered.allowed, lowered.remaining) == (False, 0)
    raised = await limiter.hit(RateLimitBucket.VIDEOS, identity, 6)
    assert (raised.allowed, raised.remaining) == (True, 1)  # the refused hit was not logged


async def test_concurrent_requests_to_two_api_processes_get_distinct_remaining(
    settings_factory,
) -> None:
    """The issue's burst: 40 requests at once, split over two API processes sharing Redis, with
    a limit of 30: every accepted answer shows a different RateLimit-Remaining."""
    settings = settings_factory(redis_url=_redis_or_skip(), rate_limits={"videos": 30})
    async with running_harness(settings, run_workers=False) as first:
        await first.container.limiter.reset()  # key ids restart in every test database
        partner = await first.partner(credits=100)
        async with running_harness(settings, run_workers=False) as second:
            responses = await asyncio.gather(
                *(
                    (first if n % 2 else second).client.get(
                        f"{API}/videos", headers=partner["headers"]
                    )
                    for n in range(40)
                )
            )
        await first.container.limiter.reset()
    accepted = [int(r.headers["RateLimit-Remaining"]) for r in responses if r.status_code == 200]
    assert sorted(accepted) == list(range(30))
    assert sorted(r.status_code for r in responses) == [200] * 30 + [429] * 10
