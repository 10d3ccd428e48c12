"""Fixtures for the contract suite: harnesses with custom settings and clients from other addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from knightvision.app import create_app
from tests.conftest import Harness


class ContractHarness(Harness):
    """A ``Harness`` that also keeps its app, so clients can call from other client addresses."""

    app: Any = None
    _extra_clients: list[httpx.AsyncClient]

    def client_from(self, address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 41000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self._extra_clients.append(client)
        return client


async def _contract_harness(settings: Any) -> AsyncIterator[ContractHarness]:
    app = create_app(settings, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            h = ContractHarness(settings=settings, container=app.state.container, client=client)
            h.app = app
            h._extra_clients = []
            try:
                yield h
            finally:
                for extra in h._extra_clients:
                    await extra.aclose()


@pytest.fixture
async def make_harness(
    settings_factory,
) -> AsyncIterator[Callable[..., Awaitable[ContractHarness]]]:
    """``await make_harness(**settings)``: the API (no workers) with overridden settings; one per test."""
    running: list[AsyncIterator[ContractHarness]] = []

    async def make(**overrides: Any) -> ContractHarness:
        gen = _contract_harness(settings_factory(**overrides))
        running.append(gen)
        return await gen.__anext__()

    yield make
    for gen in reversed(running):
        await gen.aclose()


@pytest.fixture
async def api(make_harness) -> ContractHarness:
    """The API with default settings and no workers, plus ``client_from(address)``."""
    return await make_harness()
