"""An operator's change to a key applies to the very next request, even while the key is polling
hard.

The server keeps hot-path rows between requests (``db/hot_reads.py``); these tests change keys from
another process (the CLI) while a partner hammers the server, and check that nothing sent after the
command returned was answered from before it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from knightvision.db.migrate import upgrade
from knightvision.settings import Settings
from tests.fixtures.processes import Deployment

API = "/api/v1/partner"


@pytest.fixture
def deployment(backend_url: str, tmp_path: Path) -> Deployment:
    upgrade(Settings(database_url=backend_url).async_database_url)
    # Refused requests would soon count as guessing and be throttled (429): lift that throttle.
    return Deployment(
        tmp_path / "data", backend_url, KNIGHTVISION_AUTH_FAILURES_PER_MINUTE="1000000"
    )


class Poller:
    """Polls one URL back to back on one keep-alive connection, noting when each request was
    sent."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.answers: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                self.answers.append((sent, client.get(self.url, headers=self.headers).status_code))

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def statuses_sent(
        self, *, before: float | None = None, after: float | None = None, at_least: int = 1
    ) -> list[int]:
        """Statuses of the requests sent before or after a moment, waiting until there are
        enough."""

        def chosen() -> list[int]:
            return [
                status
                for sent, status in list(self.answers)
                if (before is None or sent < before) and (after is None or sent > after)
            ]

        deadline = time.monotonic() + 30
        while len(chosen()) < at_least and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(chosen()) >= at_least, "the poller stalled"
        return chosen()


def _partner(deployment: Deployment) -> tuple[dict[str, str], str]:
    account = deployment.cli("accounts", "create", "acme", "--credits", "10")
    deployment.cli("keys", "limits", account["key_prefix"], "--set", "credits=1000000")
    return {"Authorization": f"Bearer {account['api_key']}"}, account["key_prefix"]


def test_deactivation_refuses_every_request_sent_after_the_command(deployment: Deployment) -> None:
    headers, prefix = _partner(deployment)
    with (
        deployment.server("--no-workers"),
        Poller(f"{deployment.base}{API}/credits", headers) as poller,
    ):
        poller.statuses_sent(at_least=50)
        assert set(poller.statuses_sent(before=time.monotonic())) == {200}
        deployment.cli("keys", "deactivate", prefix)
        returned = time.monotonic()
        after = poller.statuses_sent(after=returned, at_least=50)
    assert set(after) == {403}, f"answers after deactivation: {sorted(set(after))}"


def test_a_lowered_limit_applies_to_the_next_request(deployment: Deployment) -> None:
    headers, prefix = _partner(deployment)
    with (
        deployment.server("--no-workers"),
        Poller(f"{deployment.base}{API}/credits", headers) as poller,
    ):
        poller.statuses_sent(at_least=50)
        assert set(poller.statuses_sent(before=time.monotonic())) == {200}
        deployment.cli("keys", "limits", prefix, "--set", "credits=5")
        returned = time.monotonic()
        after = poller.statuses_sent(after=returned, at_least=50)
    assert set(after) == {429}, f"answers after lowering the limit: {sorted(set(after))}"
