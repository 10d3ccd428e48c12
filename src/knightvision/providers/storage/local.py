"""Local-file storage: the embedded default, or a shared mount when scaled out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from knightvision.kit.files import atomic_copy
from knightvision.providers.storage.port import StoredObject, is_safe_key

_CHUNK = 1 << 20
_SCRATCH = "scratch"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not is_safe_key(key):
            raise ValueError(f"unsafe storage key {key!r}")
        return self.root / key

    def put_file(self, key: str, source: Path) -> int:
        target = self._path(key)
        # A file from scratch space is copied beside itself, so a copy cut short by a killed
        # worker is swept with that scratch instead of lying beside the key for good.
        staging = source.parent if self._in_scratch(source) else None
        atomic_copy(source, target, staging)
        return target.stat().st_size

    def _in_scratch(self, source: Path) -> bool:
        return source.resolve().is_relative_to((self.root / _SCRATCH).resolve())

    def local_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    def fetch(self, key: str) -> Path | None:
        return self.local_path(key)

    def stat(self, key: str) -> StoredObject | None:
        path = self.local_path(key)
        if path is None:
            return None
        stat = path.stat()
        # The validator Starlette's FileResponse sends for the same file, so both paths agree.
        tag = hashlib.md5(f"{stat.st_mtime}-{stat.st_size}".encode(), usedforsecurity=False)
        return StoredObject(
            size=stat.st_size,
            etag=f'"{tag.hexdigest()}"',
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with open(self._path(key), "rb") as source:
            source.seek(start)
            left = end + 1 - start
            while left > 0:
                chunk = source.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presigned_url(self, key: str) -> str | None:
        return None  # local files are served by the API itself

    def scratch_dir(self) -> Path:
        scratch = self.root / _SCRATCH
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch

    def describe(self) -> str:
        return self.root.as_uri()
