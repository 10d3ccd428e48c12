"""Dependencies that fail well (ADR 0004): with Redis or PostgreSQL unreachable the API answers
503 ``dependency_unavailable`` with ``Retry-After``, never 500; ``/readyz`` names the dependency;
``/healthz`` stays up; and everything recovers by itself when the dependency is back.

Redis is a real ``redis-server`` this test starts on a spare port and stops; PostgreSQL is the real
server behind a TCP proxy this test starts, cuts and restores (both in ``tests.fixtures.outages``;
``tests/e2e/test_dependency_chaos.py`` does the same under load, with real processes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis

from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.settings import Settings
from tests.fixtures.harness import API, Harness, running_harness
from tests.fixtures.outages import (
    RedisServer,
    assert_not_ready,
    assert_unavailable,
    postgres_behind_proxy,
)


async def eventually(
    call: Callable[[], Awaitable[httpx.Response]], status: int, within: float = 15.0
) -> httpx.Response:
    """The first answer with ``status``; recovery must come by itself within ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        response = await call()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


# Redis ---------------------------------------------------------------------------------------


async def test_redis_down_is_503_on_partner_routes_and_static_then_recovers(
    settings_factory: Callable[..., Settings], redis_server: RedisServer
) -> None:
    async with running_harness(
        settings_factory(redis_url=redis_server.url), run_workers=False
    ) as api:
        partner = await api.partner(credits=10)
        credits = f"{API}/credits"
        missing_video = f"/static/videos/{new_job_id(utcnow(), 'local')}.mp4"

        def get(path: str) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: api.client.get(path, headers=partner["headers"])

        assert (await get(credits)()).status_code == 200
        assert (await api.client.get("/readyz")).json()["checks"]["redis"] == "ok"

        redis_server.stop()
        for path in (credits, f"{API}/videos", missing_video):
            assert_unavailable(await get(path)())
        unauthenticated = await api.client.get(credits)  # the failed-auth throttle is on Redis too
        assert_unavailable(unauthenticated)
        assert_not_ready(await api.client.get("/readyz"), "redis")
        assert (await api.client.get("/healthz")).status_code == 200  # liveness only

        redis_server.start()
        recovered = await eventually(get(credits), 200)
        assert recovered.status_code == 200, recovered.text
        assert (await get(missing_video)()).status_code == 404
        assert (await eventually(lambda: api.client.get("/readyz"), 200)).json()["status"] == (
            "ready"
        )


async def test_a_burst_waits_for_the_configured_redis_connections(
    settings_factory: Callable[..., Settings], redis_server: RedisServer
) -> None:
    """Twenty blocking calls at once through the limiter's pool of 2: all answered, and the server
    never sees more than 2 connections from it (the unbounded pool held 88 after a burst)."""
    settings = settings_factory(redis_url=redis_server.url, redis_max_connections=2)
    async with running_harness(settings, run_workers=False) as api:
        shared = api.container.limiter.shared
        assert shared is not None
        observer = redis.Redis.from_url(redis_server.url)
        burst = asyncio.gather(*(shared.client.blpop(["kv:nothing"], 0.1) for _ in range(20)))
        seen = []
        while not burst.done():
            seen.append(len(observer.client_list()) - 1)  # less the observer itself
            await asyncio.sleep(0.05)
        assert await burst == [None] * 20
        assert max(seen) == 2, seen
        observer.close()


async def test_a_redis_that_never_answers_is_503_within_seconds(
    settings_factory: Callable[..., Settings],
) -> None:
    """A silent link (a partition, a hung server) must not hold requests: the limiter's calls time
    out and the request is answered 503, well within the time a client waits."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass  # reads every command, answers none
        writer.close()

    silent = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        settings = settings_factory(redis_url=f"redis://127.0.0.1:{port}/0")
        async with running_harness(settings, run_workers=False) as api:
            partner = await api.partner(credits=10)
            started = time.monotonic()
            assert_unavailable(await api.client.get(f"{API}/credits", headers=partner["headers"]))
            assert time.monotonic() - started < 10
            started = time.monotonic()
            assert_not_ready(await api.client.get("/readyz"), "redis")
            assert time.monotonic() - started < 5
    finally:
        silent.close()
        await silent.wait_closed()


# PostgreSQL ------------------------------------------------------------------------------------


async def test_postgres_down_is_503_then_recovers(
    settings_factory: Callable[..., Settings],
) -> None:
    async with (
        postgres_behind_proxy() as (url, proxy),
        running_harness(settings_factory(database_url=url), run_workers=False) as api,
    ):
        partner = await api.partner(credits=100)
        job = await api.client.post(
            f"{API}/generate-video",
            headers=partner["headers"],
            json={"prompt": "A knight at dawn", "model": "local-storyboard", "duration": 1},
        )
        assert job.status_code == 200, job.text
        status = f"{API}/video-status/{job.json()['job_id']}"
        calls = _calls(api, partner["headers"], status)
        for call in calls.values():  # the hot path's rows are now cached
            assert (await call()).status_code == 200

        await proxy.cut()
        for name, call in calls.items():
            response = await call()
            assert response.status_code == 503, (name, response.text)
            assert_unavailable(response)
        assert_not_ready(await api.client.get("/readyz"), "database")
        assert (await api.client.get("/healthz")).status_code == 200

        await proxy.restore()
        for name, call in calls.items():
            response = await eventually(call, 200)
            assert response.status_code == 200, (name, response.text)
        assert (await api.client.get("/readyz")).status_code == 200


@pytest.mark.parametrize("delivered", [True, False], ids=["it-committed", "it-did-not"])
async def test_a_submit_that_loses_the_database_as_it_commits_answers_what_happened(
    settings_factory: Callable[..., Settings], delivered: bool
) -> None:
    """PostgreSQL may commit a transaction whose answer never comes back. The submit then looks
    for its job once the database answers: a job that exists is answered 200 (and was charged
    once); 503 "nothing charged" only when nothing was."""
    async with (
        postgres_behind_proxy() as (url, proxy),
        running_harness(settings_factory(database_url=url), run_workers=False) as api,
    ):
        partner = await api.partner(credits=100)
        proxy.lose_next_commit(delivered=delivered)
        submitted = await api.client.post(
            f"{API}/generate-video",
            headers=partner["headers"],
            json={"prompt": "A knight at dawn", "model": "local-storyboard", "duration": 4},
        )
        videos = await api.client.get(f"{API}/videos", headers=partner["headers"])
        credits = await api.client.get(f"{API}/credits", headers=partner["headers"])
    listed = [video["job_id"] for video in videos.json()["videos"]]
    if delivered:
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["credits_remaining"] == 96
        assert listed == [submitted.json()["job_id"]]
        assert credits.json()["credits_remaining"] == 96
    else:
        assert_unavailable(submitted)
        assert (listed, credits.json()["credits_remaining"]) == ([], 100)


def _calls(
    api: Harness, headers: dict[str, str], status: str
) -> dict[str, Callable[[], Awaitable[httpx.Response]]]:
    """Hot-path reads (their rows cached before the cut), ordinary reads and a paid write."""

    def get(path: str, **options: Any) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: api.client.get(path, **options)

    def submit() -> Awaitable[httpx.Response]:
        return api.client.post(
            f"{API}/generate-video",
            headers=headers,
            json={"prompt": "A knight at dusk", "model": "local-storyboard", "duration": 1},
        )

    return {
        "video-status": get(status, headers=headers),
        "credits": get(f"{API}/credits", headers=headers),
        "videos": get(f"{API}/videos", headers=headers),
        "generate-video": submit,
    }
