#!/usr/bin/env python
"""In-process cost of ``GET /api/v1/partner/video-status/<id>`` (the fast lane): the ASGI app
called directly, no sockets, no load generator, so the access log and the metrics' share of a
request is what changes between runs.

    python bench/status_inprocess_bench.py                    # this tree
    PYTHONPATH=/path/to/other/src python bench/status_inprocess_bench.py   # another tree

Runs the same request ``--requests`` times per round, alternating access log on and off when the
tree has the setting, and prints the median microseconds per request of each and their ratio.
Logs go to /dev/null (the formatting is measured, not the terminal). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

API = "/api/v1/partner"


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _round(app: Any, path: str, headers: list[tuple[bytes, bytes]], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        assert await _call(app, path, headers) == 200
    return (time.perf_counter() - started) / count * 1e6


async def main(requests: int, rounds: int, sink: TextIO) -> None:
    import httpx

    from knightvision.account import admin
    from knightvision.app import create_app
    from knightvision.kit import logs
    from knightvision.settings import Settings, load_settings

    has_access_log = "access_log" in Settings.model_fields  # not in trees before the access log
    with tempfile.TemporaryDirectory() as tmp:
        logs.configure_logging("info")
        for name in ("knightvision", "uvicorn"):
            for handler in logging.getLogger(name).handlers:
                handler.setStream(sink)  # type: ignore[attr-defined]
        variants: list[bool | None] = [True, False] if has_access_log else [None]
        app = create_app(load_settings(data_dir=Path(tmp) / "data"), run_workers=False)
        async with app.router.lifespan_context(app):
            engine = app.state.container.engine
            created = await admin.create_account(engine, "bench", 1000)
            await admin.key_limits(
                engine, created["key_prefix"], {"video_status": 10_000_000}, False
            )
            auth = f"Bearer {created['api_key']}"
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                job = await client.post(
                    f"{API}/generate-video",
                    headers={"Authorization": auth},
                    json={"prompt": "A lighthouse", "model": "local-storyboard", "duration": 1},
                )
            path = f"{API}/video-status/{job.json()['job_id']}"
            headers = [(b"authorization", auth.encode()), (b"host", b"bench")]
            results: dict[Any, list[float]] = {variant: [] for variant in variants}
            await _round(app, path, headers, requests // 5)  # warm up
            for _ in range(rounds):
                for variant in variants:
                    if variant is not None:
                        app.access_log_enabled = variant
                    results[variant].append(await _round(app, path, headers, requests))
    print(f"tree: {Path(sys.modules['knightvision'].__file__ or '').parent}")
    medians = {variant: statistics.median(times) for variant, times in results.items()}
    for variant, median in medians.items():
        label = {
            None: "(no access log in this tree)",
            True: "access log on",
            False: "access log off",
        }[variant]
        rounds_shown = ", ".join(f"{value:.0f}" for value in results[variant])
        print(f"  {label:<30} {median:8.1f} µs/request (rounds: {rounds_shown})")
    if has_access_log:
        print(f"  access log on/off ratio {medians[True] / medians[False]:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    with open(os.devnull, "w") as devnull:
        asyncio.run(main(arguments.requests, arguments.rounds, devnull))
