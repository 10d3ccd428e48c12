"""The start-up check of a process's storage: write, read back and delete a probe object.

A process that cannot do all three would fail every job it runs (a worker) or answer 404 for
every video (an API), so it is refused at start with one line saying why.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from knightvision.errors import OperatorError
from knightvision.providers.storage.port import MediaStorage


def verify_storage(storage: MediaStorage) -> None:
    token = os.urandom(8).hex()
    key = f"probes/{_host()}-{os.getpid()}-{token}.txt"
    content = f"knightvision storage probe {token}\n".encode()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "probe.txt"
            source.write_bytes(content)
            storage.put_file(key, source)
        try:
            read = b"".join(storage.read_range(key, 0, len(content) - 1))
        finally:
            storage.delete(key)
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise OperatorError(
            f"storage {storage.describe()} cannot be written, read and deleted: {reason}"
        ) from None
    if read != content:
        raise OperatorError(f"storage {storage.describe()} gave back other bytes than stored")


def _host() -> str:
    """The host name as a key segment (keys allow letters, digits, ``_`` and ``-``)."""
    return "".join(c if c.isalnum() or c in "_-" else "-" for c in socket.gethostname())[:40]
