"""``knightvision worker``: a process that only runs jobs (scale-out, D20)."""

from __future__ import annotations

import asyncio
import signal

from prometheus_client import start_http_server

from knightvision.container import Container
from knightvision.db.migrate import prepare_schema
from knightvision.kit.logs import configure_logging
from knightvision.settings import Settings


def run_worker_process(settings: Settings, slots: int) -> None:
    configure_logging(settings.log_level, settings.log_format)
    if settings.metrics and settings.metrics_port:  # a worker has no API port to serve them on
        start_http_server(settings.metrics_port, addr=settings.host)
    asyncio.run(_serve_jobs(settings, slots))


async def _serve_jobs(settings: Settings, slots: int) -> None:
    await asyncio.to_thread(prepare_schema, settings.async_database_url)
    container = Container.build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await container.worker(slots).run(stop)
    finally:
        await container.close()
