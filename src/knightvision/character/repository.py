"""Queries on characters, read together with their jobs.

A character's state is its jobs' state (D13): the creation job (``processing`` until it completes
-> ``ready``, or ends in error -> ``failed``) and the latest finalize job (unfinished ->
``finalizing``, complete -> ``finalized``, failed -> back to ``ready`` with its error shown). The
queue settles a job and its refund in one transaction, so the character can never show a state its
credits disagree with, whatever happens to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from knightvision.db.pages import after_cursor
from knightvision.db.schema import characters, jobs
from knightvision.job.status import JobStatus


class CharacterStatus(StrEnum):
    """A character's status, derived from its jobs' (the values are the wire strings)."""

    PROCESSING = JobStatus.PROCESSING.value
    READY = "ready"
    FAILED = "failed"
    FINALIZING = JobStatus.FINALIZING.value
    FINALIZED = "finalized"


_create = jobs.alias("create_job")
_finalize = jobs.alias("finalize_job")
_JOB_FIELDS = (
    "id",
    "status",
    "params",
    "result",
    "error",
    "error_code",
    "failed_stage",
    "retryable",
    "credits_used",
    "credits_refunded",
    "created_at",
    "finished_at",
    "progress",
)


@dataclass(frozen=True)
class JobState:
    id: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    failed_stage: str | None
    retryable: bool | None
    credits_used: int
    credits_refunded: int
    created_at: datetime
    finished_at: datetime | None
    progress: int

    @property
    def complete(self) -> bool:
        return self.finished_at is not None and self.status == JobStatus.COMPLETE

    @property
    def failed(self) -> bool:
        return self.finished_at is not None and self.status != JobStatus.COMPLETE


@dataclass(frozen=True)
class CharacterRecord:
    id: int
    account_id: int
    name: str
    prompt: str
    duration: int
    aspect_ratio: str
    public_token: str
    adapter: str
    upstream_model: str | None
    created_at: datetime
    create: JobState
    finalize: JobState | None

    @property
    def status(self) -> CharacterStatus:
        if self.create.failed:
            return CharacterStatus.FAILED
        if not self.create.complete:
            return CharacterStatus.PROCESSING
        if self.finalize is None or self.finalize.failed:
            return CharacterStatus.READY
        return CharacterStatus.FINALIZED if self.finalize.complete else CharacterStatus.FINALIZING

    @property
    def video(self) -> dict[str, Any] | None:
        """The creation job's result (the stored video) once the character is ready."""
        return self.create.result if self.create.complete else None

    @property
    def finalized(self) -> dict[str, Any] | None:
        """The finalize job's result (references, upstream registration) once finalized."""
        return (
            self.finalize.result if self.finalize is not None and self.finalize.complete else None
        )


def _select() -> Select[Any]:
    return select(
        characters,
        *(getattr(_create.c, name).label(f"create_{name}") for name in _JOB_FIELDS),
        *(getattr(_finalize.c, name).label(f"finalize_{name}") for name in _JOB_FIELDS),
    ).select_from(
        characters.join(_create, _create.c.id == characters.c.create_job_id).outerjoin(
            _finalize, _finalize.c.id == characters.c.finalize_job_id
        )
    )


def _job(row: Any, prefix: str) -> JobState | None:
    values = {name: getattr(row, f"{prefix}_{name}") for name in _JOB_FIELDS}
    if values["id"] is None:
        return None
    values["params"] = values["params"] or {}
    return JobState(**values)


def _record(row: Any) -> CharacterRecord:
    create = _job(row, "create")
    assert create is not None
    return CharacterRecord(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        prompt=row.prompt,
        duration=row.duration,
        aspect_ratio=row.aspect_ratio,
        public_token=row.public_token,
        adapter=row.adapter,
        upstream_model=row.upstream_model,
        created_at=row.created_at,
        create=create,
        finalize=_job(row, "finalize"),
    )


async def insert(
    conn: AsyncConnection,
    *,
    account_id: int,
    name: str,
    prompt: str,
    duration: int,
    aspect_ratio: str,
    public_token: str,
    adapter: str,
    upstream_model: str | None,
    create_job_id: str,
    now: datetime,
) -> int:
    result = await conn.execute(
        characters.insert().values(
            account_id=account_id,
            name=name,
            prompt=prompt,
            duration=duration,
            aspect_ratio=aspect_ratio,
            public_token=public_token,
            adapter=adapter,
            upstream_model=upstream_model,
            create_job_id=create_job_id,
            created_at=now,
            updated_at=now,
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has its key
    return int(inserted[0])


async def get(conn: AsyncConnection, account_id: int, character_id: int) -> CharacterRecord | None:
    row = (
        await conn.execute(
            _select().where(characters.c.id == character_id, characters.c.account_id == account_id)
        )
    ).first()
    return _record(row) if row is not None else None


async def job_ids(
    conn: AsyncConnection, account_id: int, character_id: int
) -> tuple[str, str | None]:
    """The character's create job and its latest finalize job (None before a finalize)."""
    row = (
        await conn.execute(
            select(characters.c.create_job_id, characters.c.finalize_job_id).where(
                characters.c.id == character_id, characters.c.account_id == account_id
            )
        )
    ).one()
    return row.create_job_id, row.finalize_job_id


async def by_job(conn: AsyncConnection, job_id: str) -> CharacterRecord:
    """The character a create or finalize job belongs to."""
    row = (
        await conn.execute(
            _select().where(
                (characters.c.create_job_id == job_id) | (characters.c.finalize_job_id == job_id)
            )
        )
    ).one()
    return _record(row)


async def list_for_account(
    conn: AsyncConnection, account_id: int, limit: int, starting_after: int | None = None
) -> tuple[list[CharacterRecord], bool]:
    """One page of the account's characters, newest first, and whether more follow (raises
    ``UnknownCursor`` when ``starting_after`` is not one of them)."""
    scope = characters.c.account_id == account_id
    rows, has_more = await after_cursor(
        conn,
        _select().where(scope),
        characters.c.created_at,
        characters.c.id,
        starting_after,
        limit,
        scope,
    )
    return [_record(row) for row in rows], has_more


async def finalized(conn: AsyncConnection, account_id: int) -> list[CharacterRecord]:
    """The account's characters that can appear in videos (D16)."""
    rows = await conn.execute(
        _select().where(
            characters.c.account_id == account_id,
            _finalize.c.status == JobStatus.COMPLETE,
            _finalize.c.finished_at.is_not(None),
        )
    )
    return [_record(row) for row in rows]


async def claim_finalize(
    conn: AsyncConnection,
    character_id: int,
    expected: str | None,
    finalize_job_id: str,
    now: datetime,
) -> bool:
    """Point the character at a new finalize job, unless another request did so first (a
    compare-and-set on the previous job, so two finalizes racing cannot both be charged)."""
    previous = (
        characters.c.finalize_job_id.is_(None)
        if expected is None
        else characters.c.finalize_job_id == expected
    )
    outcome = await conn.execute(
        update(characters)
        .where(and_(characters.c.id == character_id, previous))
        .values(finalize_job_id=finalize_job_id, updated_at=now)
    )
    return outcome.rowcount == 1
