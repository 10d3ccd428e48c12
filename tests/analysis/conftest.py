"""Fixtures shared by the analysis tests: a rendered ad, an ad platform on loopback and a queue
for analysis jobs (overriding the shared queue: SQLite, a lease as long as an analysis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.providers.ad_source import ALLOWED_HOSTS
from knightvision.providers.ad_source.urls import Platform
from knightvision.settings import Settings
from tests.fakes.ad_server import AdServer
from tests.fixtures import clips


@pytest.fixture(scope="module")
def ad() -> clips.MeasuredAd:
    """A rendered ad with known captions and speech, measured once per module."""
    return clips.measured_ad()


@pytest.fixture
def server() -> Iterator[AdServer]:
    with AdServer() as running:
        yield running


@pytest.fixture
def hosts(server: AdServer) -> dict[str, Platform]:
    """The allowlist with the loopback platform standing in for Facebook."""
    return {**ALLOWED_HOSTS, server.host: Platform.FACEBOOK}


@pytest.fixture
async def queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[JobQueue]:
    """A SQLite queue with a lease long enough for a real analysis, and quick retries."""
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)
    async_url = Settings(
        database_url=f"sqlite:///{tmp_path / 'knightvision.db'}"
    ).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    yield JobQueue(engine, QueuePolicy(lease_seconds=30, max_attempts=3, timeout_seconds=120))
    await engine.dispose()
