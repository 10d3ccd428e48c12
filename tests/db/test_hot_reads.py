"""Hot-path reads return exactly what SQLAlchemy's ordinary path returns, and see every commit."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
import pytest
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
from tests.fixtures.databases import fresh_postgres_database

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
        await queue.submit_paid(
            job_id=job_id,
            account_id=created["account_id"],
            kind="video.generate",
            params={"prompt": "é ✓", "duration": 3},
            cost=3,
            reason="test",
        )
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


@dataclass
class CachedKey:
    """Hot reads on a fresh SQLite database holding one live key."""

    reads: HotReads
    database: str
    params: dict[str, str]


@pytest.fixture
async def cached_key(tmp_path) -> AsyncIterator[CachedKey]:
    url = Settings(database_url=f"sqlite:///{tmp_path}/kv.db").async_database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    reads = HotReads(engine)
    try:
        created = await admin.create_account(engine, "acme", 100)
        yield CachedKey(reads, engine.url.database, {"key_hash": hash_api_key(created["api_key"])})
    finally:
        reads.close()
        await engine.dispose()


# A commit by a plain sqlite3 connection that the hot reads know nothing about.
_DEACTIVATE = "UPDATE api_keys SET active = 0 WHERE key_hash = ?"


def _deactivate_elsewhere(database: str, key_hash: str) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute(_DEACTIVATE, (key_hash,))
    finally:
        connection.close()


async def test_a_commit_that_ends_before_the_next_read_is_seen_even_when_the_row_was_cached(
    cached_key,
) -> None:
    reads, params = cached_key.reads, cached_key.params
    assert (await reads.first(KEY, params)).active is True
    assert (await reads.first(KEY, params)).active is True  # served from the cache
    # The commit's end reaches this coroutine through the loop's queue (a thread's callback).
    await asyncio.to_thread(_deactivate_elsewhere, cached_key.database, params["key_hash"])
    assert (await reads.first(KEY, params)).active is False


async def test_a_commit_by_another_process_is_seen_on_the_next_loop_turn(cached_key) -> None:
    reads, params = cached_key.reads, cached_key.params
    assert (await reads.first(KEY, params)).active is True
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys; "
        "sqlite3.connect(sys.argv[1], isolation_level=None).execute(sys.argv[2], (sys.argv[3],))",
        cached_key.database,
        _DEACTIVATE,
        params["key_hash"],
    )
    assert await process.wait() == 0
    assert (await reads.first(KEY, params)).active is False


async def test_reads_in_one_loop_turn_share_one_version_check(cached_key) -> None:
    """The amortisation the hot path relies on: a burst of reads costs one
    ``PRAGMA data_version``."""
    reads, params = cached_key.reads, cached_key.params
    await reads.first(KEY, params)
    await asyncio.sleep(0)  # let the first check expire
    statements: list[str] = []
    reads._sqlite().set_trace_callback(statements.append)
    for _ in range(5):
        await reads.first(KEY, params)
    assert statements == ["PRAGMA data_version"]
    await asyncio.sleep(0)
    await reads.first(KEY, params)
    assert statements == ["PRAGMA data_version"] * 2


async def test_postgres_rows_are_kept_only_while_nothing_commits(tmp_path) -> None:
    """Each request (``begin_request``) after a commit by another connection sees it, though the
    row was cached. (Whether a read was served from the cache is not asserted: any commit on the
    server, by any test running beside this one, rightly empties it.)"""
    with fresh_postgres_database() as url:
        async_url = Settings(database_url=url).async_database_url
        await asyncio.to_thread(upgrade, async_url)
        engine = create_engine(async_url)
        reads = HotReads(engine)
        try:
            created = await admin.create_account(engine, "acme", 100)
            params = {"key_hash": hash_api_key(created["api_key"])}
            other = await psycopg.AsyncConnection.connect(url, autocommit=True)
            async with other:
                for n in range(20):
                    reads.begin_request()
                    before = await reads.first(KEY, params)
                    assert before.active is (n % 2 == 0)
                    reads.begin_request()
                    assert await reads.first(KEY, params) == before  # cached, or read afresh
                    await other.execute(
                        "UPDATE api_keys SET active = %s WHERE key_hash = %s",
                        (n % 2 == 1, params["key_hash"]),
                    )
                    reads.begin_request()
                    assert (await reads.first(KEY, params)).active is (n % 2 == 1)
        finally:
            await reads.aclose()
            await engine.dispose()
