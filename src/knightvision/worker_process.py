"""``knightvision worker``: a process that only runs jobs (scale-out, D20)."""

from __future__ import annotations

import asyncio
import signal

from prometheus_client import start_http_server
from sqlalchemy import select

from knightvision.container import Container
from knightvision.db.migrate import prepare_schema
from knightvision.db.schema import jobs
from knightvision.errors import OperatorError
from knightvision.job.status import JobStatus
from knightvision.kit.logs import configure_logging
from knightvision.kit.stopping import StopSignals
from knightvision.providers.storage.probe import verify_storage
from knightvision.settings import Settings
from knightvision.video.pipeline import video_key
from knightvision.video.service import VIDEO_JOB_KIND

#: How many of the latest finished videos a starting worker looks for in its storage.
RECENT_VIDEOS = 10


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
    signals = StopSignals(stop.set)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signals, signum)
    try:
        await check_worker_storage(container)
        await container.worker(slots).run(stop)
    finally:
        await container.close()
    signals.stopped()


async def check_worker_storage(container: Container) -> None:
    """Refuse a worker whose videos the API could not serve: its storage must take a probe
    object, and must hold the latest videos other processes finished (a worker on another host
    left on the default local storage holds none of them, and would charge partners for videos
    that answer 404). A fresh deployment has none to look for: the probe alone decides."""
    storage = container.storage
    await asyncio.to_thread(verify_storage, storage)
    async with container.engine.connect() as connection:
        recent = (
            await connection.scalars(
                select(jobs.c.id)
                .where(jobs.c.kind == VIDEO_JOB_KIND, jobs.c.status == JobStatus.COMPLETE)
                .order_by(jobs.c.finished_at.desc())
                .limit(RECENT_VIDEOS)
            )
        ).all()
    for job_id in recent:
        if await asyncio.to_thread(storage.stat, video_key(job_id)) is not None:
            return
    if recent:
        raise OperatorError(
            f"storage {storage.describe()} holds none of the {len(recent)} latest finished "
            "videos: this worker's KNIGHTVISION_STORAGE_URL is not the storage the API serves from"
        )
