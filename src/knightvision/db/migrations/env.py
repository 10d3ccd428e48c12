"""Alembic environment: online migrations on the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from knightvision.db.schema import metadata


def _database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set (db/migrate.py sets it)")
    return url


def run_migrations_online() -> None:
    engine = create_engine(_database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
