"""Paid ``video.generate`` jobs on a fake upstream (EvoLink on loopback), run by real workers:
shared by the parked-wait tests and the queue benchmark."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from knightvision.db.schema import jobs
from knightvision.job.queue import JobQueue
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.providers.storage.local import LocalStorage
from knightvision.providers.video_model.evolink import EvoLinkAdapter
from knightvision.providers.video_model.upstream_http import UpstreamPolicy
from knightvision.video.pipeline import make_video_handler
from knightvision.video.service import VIDEO_JOB_KIND
from knightvision.worker.runner import WorkerRunner
from tests.fakes.evolink import FakeEvoLink

VIDEO_COST = 3

# Upstream timing scaled down from the defaults (5 s growing to 30 s, 1,200 s cap) so a test sees
# many polls; a worker re-polls each parked job when due.
PARKING_POLICY = UpstreamPolicy(
    poll_initial=0.3,
    poll_max=1.0,
    poll_factor=1.5,
    timeout=120.0,
    request_timeout=5.0,
    max_rate_limit_wait=1.0,
)


def evolink(fake: FakeEvoLink, policy: UpstreamPolicy = PARKING_POLICY) -> EvoLinkAdapter:
    """A new adapter: what a newly started worker process builds."""
    return EvoLinkAdapter(fake.api_key, base_url=fake.url, policy=policy)


def video_worker(
    queue: JobQueue,
    fake: FakeEvoLink,
    media: Path,
    *,
    slots: int = 2,
    policy: UpstreamPolicy = PARKING_POLICY,
    poll_interval: float = 0.05,
) -> WorkerRunner:
    handler = make_video_handler({"evolink": evolink(fake, policy)}, LocalStorage(media))
    return WorkerRunner(queue, {VIDEO_JOB_KIND: handler}, slots=slots, poll_interval=poll_interval)


async def submit_videos(queue: JobQueue, account_id: int, count: int) -> list[str]:
    """``count`` paid 10 s 16:9 sora-2 renders on EvoLink, as the API submits them."""
    ids = []
    for _ in range(count):
        job_id = new_job_id(utcnow(), "sora")
        await queue.submit_paid(
            job_id=job_id,
            account_id=account_id,
            kind=VIDEO_JOB_KIND,
            params={
                "adapter": "evolink",
                "model": "sora-2",
                "prompt": "A paper boat crossing a puddle",
                "duration": 10,
                "width": 1280,
                "height": 720,
                "aspect_ratio": "16:9",
                "resolution": "720p",
                "upstream_model": "sora-2",
            },
            cost=VIDEO_COST,
            reason="video",
        )
        ids.append(job_id)
    return ids


async def finished_count(queue: JobQueue) -> int:
    async with queue.engine.connect() as conn:
        found = await conn.scalar(
            select(func.count()).select_from(jobs).where(jobs.c.finished_at.is_not(None))
        )
    return int(found or 0)


async def wait_for(condition: Any, within: float, what: str) -> None:
    """Poll ``condition`` (a coroutine function or a plain one) until it holds."""
    deadline = time.monotonic() + within
    while True:
        held = condition()
        if asyncio.iscoroutine(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
