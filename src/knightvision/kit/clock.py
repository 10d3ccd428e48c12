"""UTC time as the whole system sees it.

Timestamps are stored as naive UTC datetimes so that SQLite and PostgreSQL compare them the
same way, and rendered as ``YYYY-MM-DD HH:MM:SS`` (D8).
"""

from __future__ import annotations

from datetime import UTC, datetime

WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"


def utcnow() -> datetime:
    """The current UTC time, naive, at microsecond precision."""
    return datetime.now(UTC).replace(tzinfo=None)


def format_wire(moment: datetime | None) -> str | None:
    """Render a stored timestamp in the contract's format (``WIRE_FORMAT``; isoformat is the
    fast way to write it)."""
    return moment.isoformat(sep=" ", timespec="seconds") if moment is not None else None
