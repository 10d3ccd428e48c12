"""Shared fixtures: a real server (SQLite file, real migrations) driven over ASGI or loopback HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from knightvision.account import admin
from knightvision.app import create_app
from knightvision.container import Container
from knightvision.db.migrate import upgrade
from knightvision.settings import Settings, load_settings
from tests.databases import database_url

API = "/api/v1/partner"


@dataclass
class Harness:
    """A running app, a client for it, and ways to make partners."""

    settings: Settings
    container: Container
    client: httpx.AsyncClient

    async def partner(self, credits: int = 1000, name: str | None = None) -> dict[str, Any]:
        name = name or f"acct-{os.urandom(4).hex()}"
        created = await admin.create_account(self.container.engine, name, credits)
        return {**created, "headers": {"Authorization": f"Bearer {created['api_key']}"}}

    async def extra_key(self, account: str) -> dict[str, str]:
        created = await admin.create_key(self.container.engine, account)
        return {"Authorization": f"Bearer {created['api_key']}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Tests that take this run once on each real database."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings_factory(tmp_path: Path) -> Iterator[Any]:
    """Settings on a SQLite file under tmp_path, or, with KNIGHTVISION_TEST_BACKEND=postgresql, on a
    fresh migrated PostgreSQL database (pass database_url= for another database)."""
    with ExitStack() as stack:
        urls: list[str] = []

        def make(**overrides: Any) -> Settings:
            if (
                os.environ.get("KNIGHTVISION_TEST_BACKEND") == "postgresql"
                and "database_url" not in overrides
            ):
                if not urls:
                    urls.append(stack.enter_context(database_url("postgresql", tmp_path)))
                    upgrade(Settings(database_url=urls[0]).async_database_url)
                overrides["database_url"] = urls[0]
            return load_settings(**{"data_dir": tmp_path / "data", **overrides})

        yield make


async def _harness(settings: Settings, run_workers: bool) -> AsyncIterator[Harness]:
    app = create_app(settings, run_workers=run_workers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(settings=settings, container=app.state.container, client=client)


@pytest.fixture
async def harness(settings_factory) -> AsyncIterator[Harness]:
    """The API with no workers: jobs stay queued, so submissions can be inspected."""
    async for h in _harness(settings_factory(), run_workers=False):
        yield h


@pytest.fixture
async def live_harness(settings_factory) -> AsyncIterator[Harness]:
    """The API with in-process workers: jobs run to completion."""
    async for h in _harness(settings_factory(poll_interval_seconds=0.1), run_workers=True):
        yield h
