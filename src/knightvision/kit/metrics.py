"""The process's Prometheus metrics, counted where things happen (served at ``/metrics``).

What lives in the database (queue depth, credits) is read at scrape time instead
(``api/metrics.py``), so every process agrees and nothing is counted twice.
"""

from __future__ import annotations

import contextlib
import time

from prometheus_client import Counter, Histogram, disable_created_metrics

from knightvision.kit.logs import JobLabels, current_job

# A *_created sample per series doubles the output for a timestamp nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_REQUESTS = Counter(
    "knightvision_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "knightvision_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by route template and method",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "knightvision_rate_limited",
    "Requests refused with 429, by the limit that refused them (an endpoint's bucket, "
    "auth_failures or static_misses)",
    ["reason"],
)
CONNECTION_LIMITS = Counter(
    "knightvision_connection_limits",
    "Connections closed for not sending a request head in time (header_timeout), and requests "
    "answered 503 because every connection slot was taken (max_connections)",
    ["limit"],
)
JOB_STAGE_SECONDS = Histogram(
    "knightvision_job_stage_duration_seconds",
    "Time a job attempt spent in each stage, by job kind and stage",
    ["kind", "stage"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800),
)
UPSTREAM_REQUESTS = Counter(
    "knightvision_upstream_requests",
    "Calls to upstream services, by provider and outcome (HTTP status, or the transport error)",
    ["provider", "code"],
)
UPSTREAM_ERRORS = Counter(
    "knightvision_upstream_errors",
    "Upstream calls that failed (non-2xx status or no answer), by provider and code",
    ["provider", "code"],
)


def upstream_answered(provider: str, code: int | str) -> None:
    """One upstream call's outcome: its HTTP status, or the name of the transport failure."""
    label = str(code)
    UPSTREAM_REQUESTS.labels(provider, label).inc()
    if not (isinstance(code, int) and 200 <= code < 400):
        UPSTREAM_ERRORS.labels(provider, label).inc()


def rate_limited(reason: str) -> None:
    RATE_LIMITED.labels(reason).inc()


def connection_limited(limit: str) -> None:
    CONNECTION_LIMITS.labels(limit).inc()


class JobTrace:
    """A job attempt's labels for its log lines, and the time it spends in each stage.

    Created where the attempt starts (in the attempt's task), ``stage()`` at each change of stage,
    ``finish()`` once at the end."""

    def __init__(self, job_id: str, kind: str, stage: str = "started") -> None:
        self.labels = JobLabels(job_id, kind, stage)
        self._since = time.perf_counter()
        self._token = current_job.set(self.labels)

    def stage(self, stage: str) -> None:
        if stage != self.labels.stage:
            self._close_stage()
            self.labels.stage = stage

    def finish(self) -> None:
        self._close_stage()
        # finished from another context than it started in: nothing there to undo
        with contextlib.suppress(ValueError):
            current_job.reset(self._token)

    def _close_stage(self) -> None:
        now = time.perf_counter()
        JOB_STAGE_SECONDS.labels(self.labels.kind, self.labels.stage).observe(now - self._since)
        self._since = now
