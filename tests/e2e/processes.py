"""Real processes on loopback: `knightvision serve` and `knightvision worker`, as operators run them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Deployment:
    """One data directory/database shared by every process a test starts."""

    def __init__(self, data_dir: Path, database_url: str, **env: str) -> None:
        self.env = {
            **os.environ,
            "KNIGHTVISION_DATA_DIR": str(data_dir),
            "KNIGHTVISION_DATABASE_URL": database_url,
            "KNIGHTVISION_LEASE_SECONDS": "3",
            "KNIGHTVISION_POLL_INTERVAL_SECONDS": "0.2",
            "KNIGHTVISION_LOG_LEVEL": "info",
            **env,
        }
        self.log_dir = data_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "knightvision", *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")
        return subprocess.Popen(
            [sys.executable, "-m", "knightvision", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    @contextmanager
    def server(self, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
        process = self.spawn("serve", "serve", "--port", str(self.port), *extra)
        try:
            wait_until(
                lambda: _healthy(self.base),
                timeout=60,
                what="the server to answer /healthz",
                process=process,
            )
            yield process
        finally:
            stop(process)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(
    condition,
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    every: float = 0.1,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"process exited with {process.returncode} while waiting for {what}"
            )
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
