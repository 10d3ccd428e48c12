"""Hot-path reads return exactly what SQLAlchemy's ordinary path returns, and see every commit."""

from __future__ import annotations

import asyncio

from sqlalchemy import bindparam, select

from knightvision.account import admin
from knightvision.db.engine import create_engine
from knightvision.db.hot_reads import HotReads, OneRowQuery
from knightvision.db.migrate import upgrade
from knightvision.db.schema import api_keys, jobs
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import hash_api_key, new_job_id
from knightvision.settings import Settings

KEY = OneRowQuery(select(api_keys).where(api_keys.c.key_hash == bindparam("key_hash")))
JOB = OneRowQuery(select(jobs).where(jobs.c.id == bindparam("job_id")))


async def test_rows_equal_the_ordinary_path_and_commits_are_seen_at_once(backend_url: str) -> None:
    url = Settings(database_url=backend_url).async_database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    reads = HotReads(engine)
    try:
        created = await admin.create_account(engine, "acme", 100)
        await admin.key_limits(engine, created["key_prefix"], {"video_status": 500})
        queue = JobQueue(engine, QueuePolicy())
        job_id = new_job_id(utcnow(), "local")
        await queue.submit_paid(job_id=job_id, account_id=created["account_id"], kind="video.generate",
                                params={"prompt": "é ✓", "duration": 3}, cost=3, reason="test")
        params = {"key_hash": hash_api_key(created["api_key"])}
        for query, bound in ((KEY, params), (JOB, {"job_id": job_id})):
            fast = await reads.first(query, bound)
            async with engine.connect() as conn:
                ordinary = (await conn.execute(query.statement, bound)).first()
            assert tuple(fast) == tuple(ordinary)
            assert [type(value) for value in fast] == [type(value) for value in ordinary]
        assert (await reads.first(KEY, params)).rate_limits == {"video_status": 500}

        await admin.deactivate_key(engine, created["key_prefix"])
        assert (await reads.first(KEY, params)).active is False  # no stale read after a commit
        assert await reads.first(JOB, {"job_id": "local_20200101_000000_nothin"}) is None
    finally:
        reads.close()
        await engine.dispose()
