"""Dependencies that fail well (ADR 0004): with Redis or PostgreSQL unreachable the API answers
503 ``dependency_unavailable`` with ``Retry-After``, never 500; ``/readyz`` names the dependency;
``/healthz`` stays up; and everything recovers by itself when the dependency is back.

Redis is a real ``redis-server`` this test starts on a spare port and stops; PostgreSQL is the real
server behind a TCP proxy this test starts, cuts and restores.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from knightvision.db.migrate import upgrade
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.settings import Settings
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.harness import API, Harness, running_harness
from tests.fixtures.partner_api import assert_error
from tests.fixtures.processes import free_port

UNAVAILABLE = ("Service temporarily unavailable", "dependency_unavailable")


def assert_unavailable(response: httpx.Response) -> None:
    assert_error(response, 503, *UNAVAILABLE)
    assert int(response.headers["Retry-After"]) >= 1


def assert_not_ready(response: httpx.Response, down: str) -> None:
    """503 naming the dependency that is down, and nothing about where it lives."""
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    body = response.json()
    assert (body["error"], body["code"], body["status"]) == (*UNAVAILABLE, "unavailable")
    assert body["checks"][down] == "unavailable"
    assert {state for name, state in body["checks"].items() if name != down} == {"ok"}
    assert "127.0.0.1" not in response.text


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


class RedisServer:
    """A real redis-server on a spare loopback port, stopped and started again on that port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


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


class TcpProxy:
    """Forwards a loopback port to PostgreSQL; ``cut()`` drops every connection and refuses new
    ones, ``restore()`` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)


@asynccontextmanager
async def postgres_behind_proxy() -> AsyncIterator[tuple[str, TcpProxy]]:
    with fresh_postgres_database() as direct_url:
        await asyncio.to_thread(upgrade, Settings(database_url=direct_url).async_database_url)
        target = httpx.URL(direct_url.replace("postgresql://", "http://", 1))
        proxy = TcpProxy(target.port or 5432)
        await proxy.restore()
        try:
            yield direct_url.replace(f":{target.port}/", f":{proxy.port}/", 1), proxy
        finally:
            if proxy._server is not None:
                await proxy.cut()


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
