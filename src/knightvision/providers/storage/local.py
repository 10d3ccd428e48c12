"""Local-file storage: the embedded default, or a shared mount when scaled out."""

from __future__ import annotations

import re
from pathlib import Path

from knightvision.kit.files import atomic_copy

_SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _SAFE_KEY.fullmatch(key):
            raise ValueError(f"unsafe storage key {key!r}")
        return self.root / key

    def put_file(self, key: str, source: Path) -> int:
        target = self._path(key)
        atomic_copy(source, target)
        return target.stat().st_size

    def local_path(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    def scratch_dir(self) -> Path:
        scratch = self.root / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch
