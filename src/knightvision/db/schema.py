"""Tables, as SQLAlchemy Core. Queries live in each domain's repository module.

Every type and constraint here is portable between SQLite and PostgreSQL; timestamps are naive UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Big integers on PostgreSQL, the rowid alias on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    # A cache of the ledger's sum, changed only by guarded updates (D10).
    Column("balance", BigInteger, nullable=False, default=0),
    # A test account (test-mode keys, its own balance) names the live account it belongs to.
    Column(
        "test_of", IdType, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, unique=True
    ),
    Column("created_at", DateTime, nullable=False),
    # The last event's number in the account's events feed: taken by a row-locking update in the
    # transaction that writes the event, so numbers commit in order and the feed has no gaps.
    Column("last_event_seq", BigInteger, nullable=False, default=0, server_default="0"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column(
        "account_id",
        IdType,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False, index=True),
    Column("active", Boolean, nullable=False, default=True),
    # Per-key overrides of the per-endpoint limits: {"video_status": 1000, …} per minute (D5).
    Column("rate_limits", JSON, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("deactivated_at", DateTime, nullable=True),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column(
        "account_id",
        IdType,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("job_id", String(40), nullable=True),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("kind IN ('grant', 'debit', 'refund', 'adjustment')", name="known_kind"),
    # One debit and at most one refund per job (D10); NULL job ids never collide.
    UniqueConstraint("job_id", "kind"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", IdType, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    # What partners see (D13); "finished_at IS NOT NULL" is what the queue keys on.
    Column("status", String(24), nullable=False),
    Column("message", Text, nullable=True),
    Column("progress", Integer, nullable=False, default=0),
    Column("params", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("checkpoint", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_code", String(40), nullable=True),
    Column("failed_stage", String(40), nullable=True),
    Column("retryable", Boolean, nullable=True),
    Column("credits_used", BigInteger, nullable=False, default=0),
    Column("credits_refunded", BigInteger, nullable=False, default=0),
    # Queue bookkeeping: lease, fencing token, attempts, backoff, deadline.
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", DateTime, nullable=False),
    Column("lease_owner", String(80), nullable=True),
    Column("lease_token", String(32), nullable=True),
    Column("lease_expires_at", DateTime, nullable=True),
    Column("deadline_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=True),
    Column("updated_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
    CheckConstraint(
        "credits_refunded >= 0 AND credits_refunded <= credits_used", name="refund_bounded"
    ),
    Index(None, "account_id", "kind", "created_at"),
    Index(None, "finished_at", "run_after"),
)

# Characters (D13, D16). What a character *is* lives here; what happened to it lives in
# its jobs: the creation job and the latest finalize job, whose statuses and results are the
# character's state (so a refund, a retry or a lost worker can never leave the two disagreeing).
characters = Table(
    "characters",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("account_id", IdType, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("aspect_ratio", String(8), nullable=False),
    # The unguessable part of the character video's public URL (ids are small integers, D9).
    Column("public_token", String(32), nullable=False, unique=True),
    # The character route it was created on: its videos render there and it registers there.
    Column("adapter", String(40), nullable=False),
    Column("upstream_model", String(80), nullable=True),
    Column("create_job_id", String(40), nullable=False, unique=True),
    Column("finalize_job_id", String(40), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "account_id", "created_at"),
)

# Idempotency-Key records (an addition): one per (API key, endpoint, key). ``reply`` is written in
# the transaction that creates the job and debits it, so a recorded reply always has its job; while
# it is null the first request is in flight, until ``locked_until`` (a crash before the commit
# leaves nothing else behind, and the key can be taken again after that).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("key_id", IdType, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(80), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("reply", JSON, nullable=True),
    Column("locked_until", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False, index=True),
    UniqueConstraint("key_id", "endpoint", "idempotency_key"),
)

# Webhooks (an addition, Standard Webhooks). An endpoint's secret is kept as issued (it signs);
# a rotated-out secret keeps signing beside the new one until ``previous_secret_until``.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", IdType, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    # The event types it receives; null: all of them.
    Column("events", JSON, nullable=True),
    Column("description", String(200), nullable=True),
    Column("secret", String(80), nullable=False),
    Column("previous_secret", String(80), nullable=True),
    Column("previous_secret_until", DateTime, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(40), nullable=True),
    # Since when every delivery has failed (null after a success): disables it after a while.
    Column("failing_since", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index(None, "account_id", "created_at"),
)

# The outbox: one row per event, written in the transaction that ends its job. ``seq`` numbers an
# account's events without gaps (``accounts.last_event_seq``): the events feed pages on it.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", IdType, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "seq"),
)

# One message of one event to one endpoint, or to a submit's own ``webhook_url`` (``url``, signed
# with the account's oldest enabled endpoint's secrets); each attempt is a ``webhook.deliver`` job.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column(
        "event_id",
        String(40),
        ForeignKey("webhook_events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "endpoint_id",
        String(40),
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("url", Text, nullable=True),
    # pending, delivered, failed (retries exhausted or 410), abandoned (endpoint disabled)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# A paid submit's own ``webhook_url``: where its job's terminal event goes besides the endpoints.
job_webhooks = Table(
    "job_webhooks",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("url", Text, nullable=False),
)
