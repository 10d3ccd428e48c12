"""Pieces of every job's partner-facing view (D13)."""

from __future__ import annotations

from typing import Any

from knightvision.db.schema import jobs
from knightvision.kit.clock import format_wire

# What a partner-facing job view reads (``lifecycle_fields`` plus the kind's params and result).
VIEW_COLUMNS = (
    jobs.c.id,
    jobs.c.status,
    jobs.c.message,
    jobs.c.progress,
    jobs.c.params,
    jobs.c.result,
    jobs.c.error,
    jobs.c.error_code,
    jobs.c.failed_stage,
    jobs.c.retryable,
    jobs.c.credits_used,
    jobs.c.credits_refunded,
    jobs.c.created_at,
    jobs.c.finished_at,
)


def present(view: dict[str, Any]) -> dict[str, Any]:
    """Fields that do not apply are absent, not null (D13)."""
    return {name: value for name, value in view.items() if value is not None}


def lifecycle_fields(row: Any) -> dict[str, Any]:
    """What every job shows: where it is, what it cost, and how it failed if it did."""
    view: dict[str, Any] = {
        "job_id": row.id,
        "status": row.status,
        "message": row.message,
        "progress": row.progress,
        "credits_used": row.credits_used,
        "credits_refunded": row.credits_refunded,
        "created_at": format_wire(row.created_at),
        "finished_at": format_wire(row.finished_at),
    }
    if row.status == "error":
        view.update(
            error=row.error,
            error_code=row.error_code,
            failed_stage=row.failed_stage,
            retryable=row.retryable,
        )
    return view
