"""Alembic environment: online migrations on the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from knightvision.db.schema import metadata

# Every API unit runs `knightvision db upgrade` before it starts (deploy/systemd), so hosts
# starting together on a fresh PostgreSQL would each create the same tables; they take turns
# on this transaction-scoped lock instead, and the later ones find the schema current.
MIGRATION_LOCK = 0x6B76_6D69_6772  # "kvmigr"


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
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            context.run_migrations()
    engine.dispose()


run_migrations_online()
