"""A real queue on each database: a SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.settings import Settings


@pytest.fixture
async def queue(backend_url: str) -> AsyncIterator[JobQueue]:
    async_url = Settings(database_url=backend_url).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    yield JobQueue(engine, QueuePolicy(lease_seconds=5, max_attempts=3, timeout_seconds=60))
    await engine.dispose()
