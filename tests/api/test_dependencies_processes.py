"""Several API processes without Redis (ADR 0004): the second ``knightvision serve`` on the same
database is refused at start with a message saying why, since its in-memory limits would double
every limit; with Redis configured both serve. Real processes on loopback, on each database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from knightvision.db.migrate import upgrade
from knightvision.settings import Settings
from tests.fixtures.processes import Deployment, free_port, stop, wait_until
from tests.ratelimit.test_limiter import _redis_or_skip


def _second_server(deployment: Deployment) -> subprocess.Popen[bytes]:
    return deployment.spawn("second", "serve", "--no-workers", "--port", str(free_port()))


def test_a_second_api_process_without_redis_is_refused(backend_url: str, tmp_path: Path) -> None:
    upgrade(Settings(database_url=backend_url).async_database_url)
    deployment = Deployment(tmp_path / "data", backend_url)
    with deployment.server("--no-workers"):
        second = _second_server(deployment)
        try:
            assert second.wait(timeout=60) == 2
        finally:
            stop(second)
        log = deployment.log("second")
        assert "another API process already serves this database" in log, log
        assert "KNIGHTVISION_REDIS_URL" in log
        assert httpx.get(f"{deployment.base}/healthz", timeout=5).status_code == 200
    # The lock goes with the process: once the first has stopped, a new one starts.
    with deployment.server("--no-workers"):
        pass


def test_api_processes_sharing_redis_all_serve(backend_url: str, tmp_path: Path) -> None:
    upgrade(Settings(database_url=backend_url).async_database_url)
    deployment = Deployment(tmp_path / "data", backend_url, KNIGHTVISION_REDIS_URL=_redis_or_skip())
    with deployment.server("--no-workers"):
        port = free_port()
        second = deployment.spawn("second", "serve", "--no-workers", "--port", str(port))
        try:
            wait_until(
                lambda: _answers(f"http://127.0.0.1:{port}/readyz"),
                timeout=60,
                what="the second server",
                process=second,
            )
        finally:
            stop(second)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
