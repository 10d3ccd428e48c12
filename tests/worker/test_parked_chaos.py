"""Chaos on parked upstream waits, on SQLite and PostgreSQL: `knightvision worker` processes
SIGKILLed at random moments while renders wait on a fake EvoLink (loopback), replacements
started. Every job completes once, no render is created upstream twice, credits are exact."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
from pathlib import Path

from knightvision.job.queue import JobQueue
from tests.fakes.evolink import FakeEvoLink
from tests.fixtures.job_queue import balances, job_row, new_account
from tests.fixtures.processes import Deployment, stop
from tests.worker.upstream_jobs import VIDEO_COST, finished_count, submit_videos, wait_for

RENDERS = 8
KILLS = 4


async def test_workers_killed_during_parked_waits_lose_and_duplicate_nothing(
    queue: JobQueue, backend_url: str, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    deployment = Deployment(
        tmp_path / "data",
        backend_url,
        KNIGHTVISION_EVOLINK_API_KEY=evolink.api_key,
        KNIGHTVISION_EVOLINK_BASE_URL=evolink.url,
        KNIGHTVISION_UPSTREAM_POLL_INTERVAL_SECONDS="0.2",
        KNIGHTVISION_UPSTREAM_POLL_MAX_INTERVAL_SECONDS="0.5",
    )
    account = await new_account(queue, credits=VIDEO_COST * RENDERS)
    job_ids = await submit_videos(queue, account, RENDERS)
    evolink.script.never_finish = True
    chaos = random.Random()
    spawned = 0

    def spawn_worker() -> subprocess.Popen[bytes]:
        nonlocal spawned
        spawned += 1
        return deployment.spawn(f"worker-{spawned}", "worker", "--slots", "2")

    workers = [spawn_worker(), spawn_worker()]
    try:
        await wait_for(lambda: evolink.poll_calls >= RENDERS, 120, "the renders to be polled")
        for _ in range(KILLS):  # kill at random moments: mid-poll, mid-park, mid-create
            await asyncio.sleep(chaos.uniform(0.2, 1.5))
            victim = workers.pop(chaos.randrange(len(workers)))
            stop(victim, signal.SIGKILL)
            workers.append(spawn_worker())
        await wait_for(
            lambda: evolink.tasks_created == RENDERS, 120, "every render started upstream"
        )
        evolink.script.never_finish = False
        evolink.script.polls_to_finish = 0
        await wait_for(lambda: _all_finished(queue), 180, "every job to finish")
    finally:
        for worker in workers:
            stop(worker)

    assert evolink.tasks_created == RENDERS  # a create repeated after a kill replayed its task
    for job_id in job_ids:
        row = await job_row(queue, job_id)
        assert (row.status, row.credits_refunded) == ("complete", 0), (row.status, row.error)
        assert row.result["provenance"]["upstream_task_id"] in evolink.tasks
        stored = Path(deployment.env["KNIGHTVISION_DATA_DIR"]) / "media" / "videos"
        assert (stored / f"{job_id}.mp4").stat().st_size > 0
    assert await balances(queue, account) == (0, 0)


async def _all_finished(queue: JobQueue) -> bool:
    return await finished_count(queue) == RENDERS
