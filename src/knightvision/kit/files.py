"""Files written whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_path(target: Path, staging: Path | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` (or in ``staging``, a folder on the same filesystem)
    for a writer that wants a path (not a file object); when the block ends without an error the
    file there is synced and renamed into place, so a reader sees the whole old file or the whole
    new one, never a half-written one. The temporary file never outlives a failure; only a killed
    process leaves it, which is why a caller may stage it in a folder that is swept. The file is
    readable by all: caches may serve other users (``mkstemp`` makes it owner-only)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=staging or target.parent
    )
    os.close(fd)
    try:
        yield Path(partial)
        with open(partial, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def atomic_fill(
    target: Path, fill: Callable[[BinaryIO], object], staging: Path | None = None
) -> None:
    """Write ``target`` through ``fill`` (see :func:`atomic_path`); ``fill`` may raise to refuse
    what it wrote."""
    with atomic_path(target, staging) as partial, open(partial, "wb") as sink:
        fill(sink)


def atomic_write(target: Path, data: bytes) -> None:
    atomic_fill(target, lambda sink: sink.write(data))


def atomic_copy(source: Path, target: Path, staging: Path | None = None) -> None:
    def copy(sink: BinaryIO) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, sink, 1 << 20)

    atomic_fill(target, copy, staging)
