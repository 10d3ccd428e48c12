"""The storage port: permanent homes for finished media, addressed by key
(``videos/<job_id>.mp4``)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class MediaStorage(Protocol):
    def put_file(self, key: str, source: Path) -> int:
        """Store ``source`` under ``key`` atomically (readers never see half a file);
        returns its size."""

    def local_path(self, key: str) -> Path | None:
        """A path on this host to serve ``key`` from, or None when it is not stored."""

    def scratch_dir(self) -> Path:
        """A directory for work in progress on this host."""
