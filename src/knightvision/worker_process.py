"""``knightvision worker``: a process that only runs jobs (scale-out, D20)."""

from __future__ import annotations

import asyncio
import signal

from knightvision.container import Container
from knightvision.db.migrate import prepare_schema
from knightvision.kit.logs import configure_logging
from knightvision.kit.stopping import StopSignals
from knightvision.settings import Settings


def run_worker_process(settings: Settings, slots: int) -> None:
    configure_logging(settings.log_level)
    asyncio.run(_serve_jobs(settings, slots))


async def _serve_jobs(settings: Settings, slots: int) -> None:
    await asyncio.to_thread(prepare_schema, settings.async_database_url)
    container = Container.build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = StopSignals(stop.set)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signals, signum)
    try:
        await container.worker(slots).run(stop)
    finally:
        await container.close()
    signals.stopped()
