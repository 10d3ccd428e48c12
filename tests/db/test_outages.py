"""Waiting out an unreachable database (``db/outages.py``): what is tried again, for how long."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.engine import create_engine
from knightvision.db.outages import settled_transaction, through_outages
from knightvision.db.schema import accounts
from knightvision.kit.clock import utcnow
from knightvision.settings import Settings
from tests.fixtures.outages import postgres_behind_proxy


class Writes:
    """A write that fails with ``errors`` in turn, then answers "written"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.tries = 0

    async def __call__(self) -> str:
        self.tries += 1
        if self.errors:
            raise self.errors.pop(0)
        return "written"


async def test_a_write_is_tried_again_until_the_database_answers() -> None:
    refused = psycopg.OperationalError("connection failed: Connection refused")
    lost = sqlalchemy.exc.OperationalError("COMMIT", {}, refused)
    write = Writes(refused, lost, sqlalchemy.exc.TimeoutError("pool"))
    assert await through_outages(write, patience=10, what="test") == "written"
    assert write.tries == 4


async def test_any_other_error_is_raised_at_once() -> None:
    write = Writes(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await through_outages(write, patience=10, what="test")
    assert write.tries == 1


async def test_it_gives_up_after_its_patience_with_the_last_error() -> None:
    write = Writes(*(psycopg.OperationalError(f"refused {n}") for n in range(100)))
    began = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        await through_outages(write, patience=0.6, what="test")
    assert time.monotonic() - began <= 0.6
    assert 2 <= write.tries < 100


async def test_a_commit_whose_answer_is_lost_is_settled_by_what_landed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On PostgreSQL behind a proxy that loses the COMMIT's answer: found, the transaction is
    done; a database still away when the check runs leaves the commit's own error."""

    async def landed(connection: AsyncConnection) -> bool:
        return bool(await connection.scalar(text("SELECT count(*) FROM accounts")))

    async def away(connection: AsyncConnection) -> bool:
        raise psycopg.OperationalError("still away")

    async with postgres_behind_proxy() as (url, proxy):
        engine = create_engine(Settings(database_url=url).async_database_url)
        try:
            proxy.lose_next_commit(delivered=True)
            async with settled_transaction(engine, landed, patience=0.5, what="test") as conn:
                await conn.execute(accounts.insert().values(name="acme", created_at=utcnow()))
            assert "test: the database was lost while it committed, and it had" in caplog.text

            proxy.lose_next_commit(delivered=True)
            with pytest.raises(sqlalchemy.exc.OperationalError, match="consuming input failed"):
                async with settled_transaction(engine, away, patience=0.5, what="test") as conn:
                    await conn.execute(accounts.insert().values(name="globex", created_at=utcnow()))
            assert "whether it committed is unknown" in caplog.text
        finally:
            await engine.dispose()
