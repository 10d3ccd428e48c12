"""Render → verify → store: how a job delivers a video at exactly the shape asked for (D15).

The render happens in scratch space; only a file of the requested size and duration reaches its
permanent key, so a partner gets exactly the shape asked for, or nothing and a refund.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knightvision.job.errors import JobFailure
from knightvision.media.probe import MediaInfo, probe
from knightvision.providers.storage.port import MediaStorage
from knightvision.worker.context import JobContext

log = logging.getLogger("knightvision.worker")

DURATION_TOLERANCE = 0.1
STORING_PROGRESS = 96

# Writes the video to the path it is given; returns its provenance.
Render = Callable[[Path], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class RequestedShape:
    width: int
    height: int
    duration: int


@dataclass(frozen=True)
class StoredVideo:
    info: MediaInfo
    size_bytes: int
    provenance: dict[str, Any]


async def render_verify_store(
    context: JobContext,
    storage: MediaStorage,
    render: Render,
    *,
    shape: RequestedShape,
    key: str,
    file_name: str,
    storing_message: str,
) -> StoredVideo:
    with attempt_scratch(storage, context.job.id) as scratch:
        output = scratch / file_name
        provenance = await render(output)
        await context.report(message=storing_message, progress=STORING_PROGRESS)
        info = await asyncio.to_thread(probe, output)
        verify_shape(info, shape)
        size = await store(storage, key, output)
    return StoredVideo(info=info, size_bytes=size, provenance=provenance)


@contextlib.contextmanager
def attempt_scratch(storage: MediaStorage, job_id: str) -> Iterator[Path]:
    """This attempt's scratch folder, inside the job's own. A worker killed mid-render (or
    mid-copy) leaves its folder behind; the job's next attempt removes it first. Only one
    attempt holds the lease: an older one still running can no longer finish the job, so its
    folder goes too."""
    job_scratch = storage.scratch_dir() / job_id
    if job_scratch.is_dir():
        for stale in job_scratch.iterdir():
            shutil.rmtree(stale, ignore_errors=True)
    job_scratch.mkdir(exist_ok=True)
    attempt = Path(tempfile.mkdtemp(dir=job_scratch))
    try:
        yield attempt
    finally:
        shutil.rmtree(attempt, ignore_errors=True)
        with contextlib.suppress(OSError):  # another attempt's folder is in it
            job_scratch.rmdir()


async def store(storage: MediaStorage, key: str, source: Path) -> int:
    """Store ``source`` for good. The storage retries transient faults itself; one still failing
    after that fails the attempt (retried later, or refunded), never leaving half a file."""
    try:
        return await asyncio.to_thread(storage.put_file, key, source)
    except Exception as exc:
        log.warning("storing %s failed", key, exc_info=True)  # the partner sees only the code
        raise JobFailure(
            "storage_unavailable",
            f"Could not store the result ({type(exc).__name__})",
            retryable=True,
            stage="storing",
        ) from exc


def verify_shape(info: MediaInfo, shape: RequestedShape) -> None:
    """A wrong shape is retryable: another render usually comes out right."""
    if (info.width, info.height) != (shape.width, shape.height) or abs(
        info.duration - shape.duration
    ) > DURATION_TOLERANCE:
        raise JobFailure(
            "render_mismatch",
            f"Rendered video is {info.width}x{info.height}, {info.duration:.2f} s; asked for "
            f"{shape.width}x{shape.height}, {shape.duration} s",
            retryable=True,
            stage="verifying",
        )
