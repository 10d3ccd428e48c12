"""Where models derived from packaged files are kept on this machine (joined, patched, optimized).

Everything under it can be made again from installed packages: deleting it costs time, never
data.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_model_cache() -> Path:
    """The user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``), ``knightvision/models``."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "knightvision" / "models"
