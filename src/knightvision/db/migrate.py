"""Alembic, driven from code: ``knightvision db upgrade`` and every start call ``upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def sync_url(async_url: str) -> str:
    """Alembic runs synchronously: the same database through the sync driver."""
    return async_url.replace("sqlite+aiosqlite:", "sqlite:", 1)


def alembic_config(async_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(async_url).replace("%", "%%"))
    return config


def upgrade(async_url: str, revision: str = "head") -> None:
    if async_url.startswith("sqlite"):
        Path(async_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(async_url), revision)


def current_revision(async_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    engine = create_engine(sync_url(async_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def prepare_schema(async_url: str) -> None:
    """Embedded SQLite migrates itself on start; a shared PostgreSQL is migrated by the operator
    (``knightvision db upgrade``) so that many hosts starting at once never race a migration."""
    if async_url.startswith("sqlite"):
        upgrade(async_url)
        return
    current, head = current_revision(async_url), head_revision()
    if current != head:
        from knightvision.errors import OperatorError

        raise OperatorError(
            f"database schema is at {current or 'nothing'}, this build needs {head}:"
            " run `knightvision db upgrade`"
        )
