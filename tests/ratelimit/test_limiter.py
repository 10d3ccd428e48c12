"""Moving-window limits (D5), in memory and on a real Redis shared by several API processes."""

from __future__ import annotations

import os
import secrets

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
async def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    return RateLimiter(_redis_or_skip() if request.param == "redis" else None)


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
