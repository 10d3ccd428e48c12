"""Waiting out an unreachable database (``db/outages.py``): what is tried again, for how long."""

from __future__ import annotations

import time

import psycopg
import pytest
import sqlalchemy.exc

from knightvision.db.outages import through_outages


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
