"""A container on each real database, a worker that runs only webhook deliveries, and real
analysis jobs ended the way a worker ends them (so their events come from the real outbox)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from knightvision.account import admin
from knightvision.account.repository import KeyPrincipal, find_principal
from knightvision.analysis.service import ANALYSIS_JOB_KIND
from knightvision.container import Container
from knightvision.db.migrate import upgrade
from knightvision.db.schema import webhook_deliveries
from knightvision.job.errors import JobFailure
from knightvision.settings import load_settings
from knightvision.webhooks.events import WEBHOOK_DELIVER
from knightvision.worker.runner import WorkerRunner

AD_URL = "https://www.tiktok.com/@brand/video/7300000000000000001"

MakeContainer = Callable[..., Awaitable[Container]]


@pytest.fixture
async def make_container(backend_url: str, tmp_path: Path) -> AsyncIterator[MakeContainer]:
    """``await make_container(**settings)``: private targets allowed unless said otherwise."""
    built: list[Container] = []

    async def make(**overrides: Any) -> Container:
        settings = load_settings(
            **{
                "data_dir": tmp_path / "data",
                "database_url": backend_url,
                "webhook_allow_private": True,
                **overrides,
            }
        )
        await asyncio.to_thread(upgrade, settings.async_database_url)
        container = Container.build(settings)
        built.append(container)
        return container

    yield make
    for container in built:
        await container.close()


@asynccontextmanager
async def delivering(container: Container) -> AsyncIterator[WorkerRunner]:
    """A worker with only the ``webhook.deliver`` handler, polling often."""
    runner = WorkerRunner(
        container.queue,
        {WEBHOOK_DELIVER: container.webhook_delivery()},
        slots=2,
        poll_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield runner
    finally:
        stop.set()
        await task


async def new_partner(container: Container, credits: int = 1000) -> KeyPrincipal:
    created = await admin.create_account(
        container.engine, f"acct-{id(container)}-{asyncio.get_running_loop().time()}", credits
    )
    principal = await find_principal(container.reads, created["api_key"])
    assert principal is not None
    return principal


async def register(
    container: Container, principal: KeyPrincipal, url: str, **body: Any
) -> dict[str, Any]:
    return await container.webhooks.create(principal.account_id, {"url": url, **body})


async def end_analysis(
    container: Container, principal: KeyPrincipal, *, succeed: bool = False
) -> str:
    """Submit a real analysis and end it as a worker does: its event comes from the outbox."""
    submitted = await container.analyses.submit(principal, {"url": AD_URL})
    assert await end_queued_analysis(container, succeed=succeed) == submitted["job_id"]
    return str(submitted["job_id"])


async def end_queued_analysis(container: Container, *, succeed: bool = False) -> str:
    """Claim the next queued analysis and end it as a worker does."""
    job = await container.queue.claim("test-worker", [ANALYSIS_JOB_KIND])
    assert job is not None
    if succeed:
        assert await container.queue.complete(job, {"summary": "fine"})
    else:
        assert await container.queue.fail(
            job, JobFailure("download_failed", "The ad could not be downloaded", stage="fetching")
        )
    return job.id


async def deliveries(container: Container) -> list[Any]:
    async with container.engine.connect() as conn:
        return list(
            (await conn.execute(select(webhook_deliveries).order_by(webhook_deliveries.c.id))).all()
        )


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check, written here from the spec (not with our signing code):
    HMAC-SHA256 over ``id.timestamp.body`` keyed by the base64 after ``whsec_``; any one of the
    space-separated ``v1,`` signatures may match."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        part.split(",", 1)[1]
        for part in headers["webhook-signature"].split(" ")
        if part.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, signature) for signature in offered)
