"""Real databases for tests: a SQLite file, or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

PG_ADMIN_DSN = os.environ.get(
    "KNIGHTVISION_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_required() -> bool:
    """CI sets this so a missing server fails the run instead of skipping half of it."""
    return os.environ.get("KNIGHTVISION_REQUIRE_POSTGRES") == "1"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    name = f"kv_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if postgres_required():
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'knightvision.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url
