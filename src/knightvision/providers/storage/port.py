"""The storage port: permanent homes for finished media, addressed by key
(``videos/<job_id>.mp4``).

Every method blocks (file or network I/O): async code calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

#: Keys are relative, slash-separated names with an extension: nothing that climbs out of a root.
SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")


def is_safe_key(key: str) -> bool:
    return SAFE_KEY.fullmatch(key) is not None


@dataclass(frozen=True)
class StoredObject:
    """What serving a stored object needs to know before reading it."""

    size: int
    etag: str  # quoted, as sent in an ETag header
    last_modified: datetime  # aware, UTC


class MediaStorage(Protocol):
    def put_file(self, key: str, source: Path) -> int:
        """Store ``source`` under ``key`` atomically (readers never see half a file);
        returns its size."""

    def stat(self, key: str) -> StoredObject | None:
        """Size and validators of ``key``, or None when it is not stored."""

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive of ``key``, in chunks. Lazy: nothing is read until
        the first chunk is asked for (each ``next`` blocks); closing it ends the read."""

    def fetch(self, key: str) -> Path | None:
        """A readable file on this host with the content of ``key`` (the stored file itself when
        local, a cached download when remote), or None when it is not stored."""

    def local_path(self, key: str) -> Path | None:
        """The stored file itself when this storage is local files (the fast path for serving),
        else None."""

    def presigned_url(self, key: str) -> str | None:
        """A time-limited URL a client can fetch ``key`` from directly, or None when this storage
        has none (local files)."""

    def delete(self, key: str) -> None:
        """Remove ``key``; absent is fine."""

    def scratch_dir(self) -> Path:
        """A directory for work in progress on this host."""

    def describe(self) -> str:
        """Where this storage is, for operators' messages (never a secret)."""
