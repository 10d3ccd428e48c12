#!/usr/bin/env python
"""Job queue benchmark: claim + complete throughput, parked upstream waits, pickup latency.

Run from the repository root (PostgreSQL optional: without it only SQLite is measured)::

    python bench/queue_bench.py                      # quick: about a minute on 2 cores
    python bench/queue_bench.py --jobs 1000 --renders 500 --postgres postgresql://postgres@127.0.0.1:5432/test

What it does, all in this one script, on a throw-away SQLite file and a throw-away PostgreSQL
database:

1. **Claim + complete.** Starts 1, 2, 4 and 8 ``WorkerRunner`` processes (2 slots each, the
   in-process worker's default) with a handler that does nothing, waits until they are idle,
   commits ``--jobs`` jobs in one transaction and times until every one is complete: jobs/s. In
   the same run it times a bare ``SELECT 1`` loop on one connection of the same engine (round
   trips/s) and prints the ratio, so the numbers compare across machines. A job costs at least
   two write transactions (claim, complete), so 0.5 is the ceiling of the ratio for one process.
2. **Parked upstream waits.** One worker process with 2 slots, ``--renders`` video jobs against
   the fake EvoLink of ``tests/fakes`` (real HTTP on loopback, served from this process) that never
   finish: the time until every render is created upstream (none is finished, so each one waits
   parked), then the re-poll rate over a window. Polls/s x poll interval = renders one worker
   keeps on cadence; per slot at the defaults (5 s first interval, 30 s longest).
3. **Submit-to-claim latency** on PostgreSQL, one idle worker process polling every 0.5 s (the
   default ``poll_interval_seconds``), ``--latency-jobs`` jobs submitted at random moments from
   this process: with ``LISTEN/NOTIFY`` and without (the fallback), median and p95 of
   ``started_at - created_at``.
4. **Crash recovery.** Two worker processes with a ``--lease`` second lease; the one holding a job
   is SIGKILLed; the time until the other has claimed the job again (about the lease: the price
   of a shorter lease is one heartbeat write per running job every third of it).

No assertions: it prints numbers; docs/adr/0001 records a run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # the package, and tests.fakes for the upstream

from sqlalchemy import func, select, text  # noqa: E402

from knightvision.account import admin  # noqa: E402
from knightvision.db.engine import create_engine, write_transaction  # noqa: E402
from knightvision.db.migrate import upgrade  # noqa: E402
from knightvision.db.schema import jobs  # noqa: E402
from knightvision.job.queue import JobQueue, QueuePolicy  # noqa: E402
from knightvision.kit.clock import utcnow  # noqa: E402
from knightvision.kit.ids import new_job_id  # noqa: E402
from knightvision.settings import Settings  # noqa: E402
from tests.worker.upstream_jobs import wait_for  # noqa: E402

KIND = "bench.noop"
HOLD = "bench.hold"  # its first attempt runs until its worker is killed
SLOTS = 2


# Worker processes ---------------------------------------------------------------------------------


def _worker_main(url: str, poll_interval: float, listen: bool, lease: float, ready: Any) -> None:
    asyncio.run(_serve(url, poll_interval, listen, lease, ready))


async def _serve(url: str, poll_interval: float, listen: bool, lease: float, ready: Any) -> None:
    from knightvision.worker.runner import WorkerRunner

    async def noop(context: Any) -> dict[str, Any]:
        return {}

    async def hold_first_attempt(context: Any) -> dict[str, Any]:
        if context.job.attempts == 1:
            await asyncio.sleep(3600)  # until this process is killed
        return {}

    engine = create_engine(url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = WorkerRunner(
        JobQueue(engine, QueuePolicy(lease_seconds=lease)),
        {KIND: noop, HOLD: hold_first_attempt},
        slots=SLOTS,
        poll_interval=poll_interval,
        listen=listen,
    )
    running = asyncio.create_task(runner.run(stop))
    await asyncio.sleep(0.3)  # the first (empty) claim and the LISTEN are done
    ready.release()
    await running
    await engine.dispose()


class Workers:
    def __init__(
        self,
        url: str,
        count: int,
        *,
        poll_interval: float,
        listen: bool = True,
        lease: float = QueuePolicy.lease_seconds,
    ) -> None:
        # A fork server that has imported the worker once starts each process in milliseconds.
        spawn = multiprocessing.get_context("forkserver")
        spawn.set_forkserver_preload(["knightvision.worker.runner", "knightvision.job.queue"])
        self.ready = spawn.Semaphore(0)
        self.processes = [
            spawn.Process(target=_worker_main, args=(url, poll_interval, listen, lease, self.ready))
            for _ in range(count)
        ]

    def __enter__(self) -> Workers:
        for process in self.processes:
            process.start()
        for _ in self.processes:
            if not self.ready.acquire(timeout=120):
                raise RuntimeError("a worker process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(timeout=30)


# Databases ----------------------------------------------------------------------------------------


class Database:
    """A throw-away database: a SQLite file, or a fresh PostgreSQL database dropped at the end."""

    def __init__(self, backend: str, scratch: Path, postgres_admin: str | None) -> None:
        self.backend = backend
        self._admin = postgres_admin
        self._name = f"kv_queue_bench_{os.getpid()}"
        if backend == "sqlite":
            plain = f"sqlite:///{scratch / 'bench.db'}"
        else:
            assert postgres_admin is not None
            import psycopg

            with psycopg.connect(postgres_admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._name}"')
                conn.execute(f'CREATE DATABASE "{self._name}"')
            plain = f"{postgres_admin.rsplit('/', 1)[0]}/{self._name}"
        self.url = Settings(database_url=plain).async_database_url
        upgrade(self.url)

    def drop(self) -> None:
        if self.backend == "postgresql" and self._admin is not None:
            import psycopg

            with psycopg.connect(self._admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')


async def _account(queue: JobQueue) -> int:
    created = await admin.create_account(queue.engine, f"bench-{new_job_id(utcnow())}", 10**9)
    return int(created["account_id"])


async def _enqueue(queue: JobQueue, account: int, count: int, kind: str = KIND) -> list[str]:
    """``count`` jobs in one transaction: they become visible (and announced) together."""
    ids = []
    async with write_transaction(queue.engine) as conn:
        for _ in range(count):
            now = utcnow()
            job_id = new_job_id(now)
            await queue.enqueue(
                conn,
                job_id=job_id,
                account_id=account,
                kind=kind,
                status="queued",
                message="queued",
                params={},
                credits_used=0,
                now=now,
            )
            ids.append(job_id)
    return ids


async def _all_done(queue: JobQueue) -> bool:
    async with queue.engine.connect() as conn:
        found = await conn.scalar(
            select(func.count()).select_from(jobs).where(jobs.c.finished_at.is_(None))
        )
    return not found


async def _select_one_rate(url: str, seconds: float) -> float:
    engine = create_engine(url)
    count = 0
    async with engine.connect() as conn:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            await conn.execute(text("SELECT 1"))
            count += 1
        rate = count / (time.perf_counter() - began)
    await engine.dispose()
    return rate


# 1. Claim + complete -----------------------------------------------------------------------------


async def claim_complete(db: Database, processes: list[int], jobs_per_run: int) -> None:
    queue = JobQueue(create_engine(db.url), QueuePolicy())
    account = await _account(queue)
    print(f"\n[{db.backend}] claim + complete, {jobs_per_run} jobs per run, {SLOTS} slots each")
    print(f"{'processes':>9} {'jobs/s':>8} {'SELECT 1/s':>11} {'ratio':>6}")
    for count in processes:
        with Workers(db.url, count, poll_interval=0.05):
            began = time.perf_counter()
            await _enqueue(queue, account, jobs_per_run)
            await wait_for(lambda: _all_done(queue), 600, "every job to complete")
            rate = jobs_per_run / (time.perf_counter() - began)
        bare = await _select_one_rate(db.url, 1.0)
        print(f"{count:>9} {rate:>8.0f} {bare:>11.0f} {rate / bare:>6.3f}")
    await queue.engine.dispose()


# 2. Parked upstream waits -------------------------------------------------------------------------


async def parked_waits(db: Database, renders: int, scratch: Path) -> None:
    from tests.fakes.evolink import FakeEvoLink
    from tests.worker.upstream_jobs import submit_videos, video_worker  # the fake's helpers

    fake = FakeEvoLink().start()
    fake.script.never_finish = True
    queue = JobQueue(create_engine(db.url), QueuePolicy())
    account = await _account(queue)
    await submit_videos(queue, account, renders)
    worker = video_worker(queue, fake, scratch / "media", slots=SLOTS)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    began = time.perf_counter()
    await wait_for(lambda: fake.tasks_created >= renders, 600, "every upstream create")
    created = time.perf_counter() - began
    window = 3.0
    polls = fake.poll_calls
    await asyncio.sleep(window)
    rate = (fake.poll_calls - polls) / window
    stop.set()
    await running
    fake.stop()
    await queue.engine.dispose()
    print(
        f"\n[{db.backend}] parked upstream waits, 1 worker x {SLOTS} slots, fake EvoLink in-process"
    )
    print(f"  {renders} renders created upstream in {created:.1f} s ({renders / created:.0f}/s)")
    print(f"  re-polls: {rate:.0f}/s -> renders kept on cadence per slot:")
    print(f"    at a 5 s interval: {rate * 5 / SLOTS:.0f}; at 30 s: {rate * 30 / SLOTS:.0f}")


# 3. Submit-to-claim latency -----------------------------------------------------------------------


async def pickup_latency(db: Database, count: int) -> None:
    queue = JobQueue(create_engine(db.url), QueuePolicy())
    account = await _account(queue)
    print(f"\n[{db.backend}] submit-to-claim latency, 1 idle worker polling every 0.5 s")
    for listen in (True, False):
        with Workers(db.url, 1, poll_interval=0.5, listen=listen):
            waits = []
            for _ in range(count):
                await asyncio.sleep(random.uniform(0.05, 0.6))  # any phase of the poll
                (job_id,) = await _enqueue(queue, account, 1)
                while True:
                    async with queue.engine.connect() as conn:
                        row = (
                            await conn.execute(
                                select(jobs.c.created_at, jobs.c.started_at).where(
                                    jobs.c.id == job_id
                                )
                            )
                        ).one()
                    if row.started_at is not None:
                        break
                    await asyncio.sleep(0.01)
                waits.append((row.started_at - row.created_at).total_seconds() * 1000)
        waits.sort()
        p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
        label = "LISTEN/NOTIFY" if listen else "polling only"
        print(f"  {label:>13}: median {statistics.median(waits):6.1f} ms, p95 {p95:6.1f} ms")
    await queue.engine.dispose()


# 4. Recovery after a crash ------------------------------------------------------------------------


async def crash_recovery(db: Database, lease: float) -> None:
    """SIGKILL the worker holding a job; time until another worker has claimed it again."""
    queue = JobQueue(create_engine(db.url), QueuePolicy())
    account = await _account(queue)
    with Workers(db.url, 2, poll_interval=0.5, lease=lease):
        (job_id,) = await _enqueue(queue, account, 1, kind=HOLD)

        async def row() -> Any:
            async with queue.engine.connect() as conn:
                query = select(jobs.c.lease_owner, jobs.c.attempts).where(jobs.c.id == job_id)
                return (await conn.execute(query)).one()

        async def claimed(attempts: int) -> bool:
            return bool((await row()).attempts == attempts)

        await wait_for(lambda: claimed(1), 60, "the first claim")
        os.kill(int((await row()).lease_owner.split(":")[1]), signal.SIGKILL)
        killed = time.perf_counter()
        await wait_for(lambda: claimed(2), 10 * lease, "the claim after the crash")
        recovered = time.perf_counter() - killed
    await queue.engine.dispose()
    print(f"\n[{db.backend}] crash recovery: lease {lease:g} s, heartbeat every {lease / 3:.1f} s")
    print(f"  a SIGKILLed worker's job was claimed again {recovered:.1f} s later")


# -------------------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="kv-queue-bench-") as tmp:
        scratch = Path(tmp)
        for backend in backends:
            home = scratch / backend
            home.mkdir()
            db = Database(backend, home, args.postgres if backend == "postgresql" else None)
            try:
                await claim_complete(db, args.processes, args.jobs)
                await parked_waits(db, args.renders, home)
                if backend == "postgresql":
                    await pickup_latency(db, args.latency_jobs)
                await crash_recovery(db, args.lease)
            finally:
                db.drop()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KNIGHTVISION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="an admin connection string (a throw-away database is created); '' for SQLite only",
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4, 8])
    # Small defaults: the whole run takes about a minute on 2 cores.
    parser.add_argument("--jobs", type=int, default=100, help="jobs per claim+complete run")
    parser.add_argument("--renders", type=int, default=100, help="parked upstream renders")
    parser.add_argument("--latency-jobs", type=int, default=10)
    parser.add_argument("--lease", type=float, default=3.0, help="lease of the crash run, s")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
