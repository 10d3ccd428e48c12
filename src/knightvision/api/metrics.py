"""``GET /metrics``: this process's counters (``kit/metrics.py``) and, read from the database at
each scrape, the queue and the credits, which every process shares."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# The classic text format every Prometheus reads (our names need none of 1.0.0's escaping).
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from knightvision.api.errors import error_response
from knightvision.db.schema import jobs, ledger_entries
from knightvision.errors import InvalidApiKeyError
from knightvision.kit.clock import utcnow


class DatabaseSnapshot(Collector):
    """Queue depth by kind and state, the oldest waiting job's age by kind, and the credits the
    ledger has debited and refunded since the start: read once per scrape."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, str, int]] = []
        self.oldest: dict[str, float] = {}
        self.credits: dict[str, int] = {}

    async def read(self, engine: AsyncEngine) -> None:
        now = utcnow()
        leased = and_(jobs.c.lease_expires_at.is_not(None), jobs.c.lease_expires_at >= now)
        unfinished = jobs.c.finished_at.is_(None)
        async with engine.connect() as conn:
            running = await conn.execute(
                select(jobs.c.kind, func.count()).where(unfinished, leased).group_by(jobs.c.kind)
            )
            running_rows = running.all()
            waiting = await conn.execute(
                select(
                    jobs.c.kind,
                    func.count(),
                    # the longest wait among jobs that could run now (a retry's backoff is none)
                    func.min(case((jobs.c.run_after <= now, jobs.c.run_after))),
                )
                .where(unfinished, or_(jobs.c.lease_expires_at.is_(None), ~leased))
                .group_by(jobs.c.kind)
            )
            waiting_rows = waiting.all()
            ledger = await conn.execute(
                select(ledger_entries.c.kind, func.sum(ledger_entries.c.amount))
                .where(ledger_entries.c.kind.in_(("debit", "refund")))
                .group_by(ledger_entries.c.kind)
            )
            ledger_rows = ledger.all()
        self.jobs = [(kind, "running", count) for kind, count in running_rows] + [
            (kind, "queued", count) for kind, count, _ in waiting_rows
        ]
        self.oldest = {
            kind: max(0.0, (now - runnable_since).total_seconds())
            for kind, _, runnable_since in waiting_rows
            if runnable_since is not None
        }
        self.credits = {kind: abs(int(total or 0)) for kind, total in ledger_rows}

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "knightvision_queue_jobs",
            "Unfinished jobs by kind and state (queued: waiting for a worker; running: leased)",
            labels=["kind", "state"],
        )
        for kind, state, count in self.jobs:
            depth.add_metric([kind, state], count)
        yield depth
        oldest = GaugeMetricFamily(
            "knightvision_queue_oldest_seconds",
            "How long the longest-waiting queued job of each kind has been runnable",
            labels=["kind"],
        )
        for kind, seconds in self.oldest.items():
            oldest.add_metric([kind], seconds)
        yield oldest
        for kind, verb in (("debit", "debited"), ("refund", "refunded")):
            yield CounterMetricFamily(
                f"knightvision_credits_{verb}",
                f"Credits {verb} by jobs, all accounts, from the ledger",
                value=self.credits.get(kind, 0),
            )


def mount_metrics(app: FastAPI, engine: AsyncEngine, token: str | None) -> None:
    """``GET /metrics``; behind ``Authorization: Bearer <token>`` when a token is set."""
    expected = f"Bearer {token}".encode() if token else None

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if expected is not None and not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), expected
        ):
            return error_response(request, InvalidApiKeyError())
        snapshot = DatabaseSnapshot()
        await snapshot.read(engine)
        shared = CollectorRegistry(auto_describe=False)
        shared.register(snapshot)
        body = generate_latest(REGISTRY) + generate_latest(shared)
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
