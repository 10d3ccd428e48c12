"""Stage outputs kept by media content and engine version, so a repeat analysis of the same media
(still a new, charged job: D13) reuses the frames, transcript and metrics instead of decoding and
transcribing again.

Layout under ``root`` (``<media root>/analysis-cache``)::

    <sha256>/<stage>-<version digest>.json          {format, sha256, stage, version, data}
    <sha256>/frames-<version digest>-<token>/*.jpg   the frame files a frames entry names

A version string names everything the output depends on (the engine's version constant, model,
parameters, library versions and a digest of the stage's source code, so an edit that forgets to
bump the constant still never reads an older output; see the ``*_version`` functions): the file
name carries its digest, the entry the whole string, which must match on read.

Every file appears whole or not at all (written aside, fsynced, renamed). An entry that does not
parse, names other media or another version, or whose frame files are missing or have another
size reads as a miss: the stage is computed again and the entry replaced. Cached frame files are
never modified; a hit copies them into the job's own folder, so a job only ever deletes or
rewrites its own files.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from knightvision.kit.files import atomic_write

__all__ = [
    "FRAMES",
    "METRICS",
    "TRANSCRIPT",
    "StageCache",
    "frames_version",
    "metrics_version",
    "transcript_version",
]

log = logging.getLogger(__name__)

#: Stage names as the result's ``engine.cached_stages`` reports them.
FRAMES = "extracting_frames"
TRANSCRIPT = "transcribing"
METRICS = "metrics"
_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


def frames_version() -> str:
    from knightvision.media.frames import FRAMES_VERSION

    libraries = f"av {_dist('av')}; scenedetect {_dist('scenedetect-headless')}"
    return f"{FRAMES_VERSION}; {libraries}; code {_code_digest('knightvision.media.frames')}"


def transcript_version(transcriber: object) -> str | None:
    """The transcriber's ``cache_version``, or None: a transcriber that does not say what its
    output depends on is never cached."""
    version = getattr(transcriber, "cache_version", None)
    if not isinstance(version, str) or not version:
        return None
    return f"{version}; code {_code_digest('knightvision.providers.transcription')}"


def metrics_version(frames: str, transcript: str) -> str:
    """Metrics are measured from the media, its frame set and its transcript."""
    from knightvision.analysis.metrics.measure import METRICS_VERSION

    libraries = "; ".join(
        f"{name} {_dist(name)}"
        for name in ("rapidocr", "opencv-python-headless", "pyloudnorm", "py3langid")
    )
    code = _code_digest("knightvision.analysis.metrics", "knightvision.media.probe")
    return (
        f"{METRICS_VERSION}; {libraries}; code {code}; frames: {frames}; transcript: {transcript}"
    )


class StageCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self, sha256: str, stage: str, version: str) -> dict[str, Any] | None:
        """The stored output of ``stage`` for this media and version, or None."""
        path = self._entry_path(sha256, stage, version)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text("utf-8"))
            if (entry["format"], entry["sha256"], entry["stage"], entry["version"]) != (
                _FORMAT,
                sha256,
                stage,
                version,
            ) or not isinstance(entry["data"], dict):
                return None
            data: dict[str, Any] = entry["data"]
        except (OSError, ValueError, KeyError, TypeError):  # absent, half-copied, foreign
            return None
        return data

    def store(self, sha256: str, stage: str, version: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for later jobs; a failure to write only costs them a recomputation."""
        path = self._entry_path(sha256, stage, version)
        if path is None:
            return
        entry = {"format": _FORMAT, "sha256": sha256, "stage": stage, "version": version}
        try:
            atomic_write(path, json.dumps({**entry, "data": data}).encode("utf-8"))
        except (OSError, TypeError, ValueError) as exc:
            log.warning("stage cache: could not keep %s for %s: %s", stage, sha256, exc)

    def load_frames(self, sha256: str, version: str, out_dir: Path) -> dict[str, Any] | None:
        """The cached frame set with its files copied into ``out_dir`` (paths pointing there),
        or None."""
        data = self.load(sha256, FRAMES, version)
        if data is None:
            return None
        try:
            folder = self.root / sha256 / _plain_name(data["folder"])
            files = [
                (folder / _plain_name(f["file"]), int(f["size"]))
                for f in data["frame_set"]["frames"]
            ]
            if not all(
                source.is_file() and source.stat().st_size == size for source, size in files
            ):
                return None
            out_dir.mkdir(parents=True, exist_ok=True)
            frames = []
            for frame, (source, _) in zip(data["frame_set"]["frames"], files, strict=True):
                target = out_dir / source.name
                shutil.copyfile(source, target)
                kept = {k: v for k, v in frame.items() if k not in ("file", "size")}
                frames.append({**kept, "path": str(target)})
        except (OSError, ValueError, KeyError, TypeError):
            return None
        frame_set: dict[str, Any] = {**data["frame_set"], "frames": frames}
        return frame_set

    def store_frames(self, sha256: str, version: str, frame_set: dict[str, Any]) -> None:
        """Keep a frame set and copies of its files (in a folder of their own, complete before
        the entry that names it is written)."""
        digest = _digest(version)
        if not _SHA256.fullmatch(sha256):
            return
        parent = self.root / sha256
        try:
            parent.mkdir(parents=True, exist_ok=True)
            building = Path(tempfile.mkdtemp(prefix=f".frames-{digest}-", dir=parent))
            frames = []
            for frame in frame_set["frames"]:
                source = Path(frame["path"])
                shutil.copyfile(source, building / source.name)
                kept = {k: v for k, v in frame.items() if k != "path"}
                frames.append({**kept, "file": source.name, "size": source.stat().st_size})
            _fsync_folder(building)
            building.chmod(0o755)  # mkdtemp makes it private; other workers read it
            folder = parent / building.name.lstrip(".")
            os.rename(building, folder)
        except (OSError, KeyError, TypeError) as exc:
            log.warning("stage cache: could not keep frames for %s: %s", sha256, exc)
            return
        data = {"folder": folder.name, "frame_set": {**frame_set, "frames": frames}}
        self.store(sha256, FRAMES, version, data)

    def _entry_path(self, sha256: str, stage: str, version: str) -> Path | None:
        if not _SHA256.fullmatch(sha256):
            return None  # not a content hash: nothing to key on
        return self.root / sha256 / f"{stage}-{_digest(version)}.json"


def _digest(version: str) -> str:
    return hashlib.sha256(version.encode("utf-8")).hexdigest()[:16]


@functools.cache
def _code_digest(*modules: str) -> str:
    """A digest of these modules' source (every ``.py`` file of a package)."""
    hasher = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is None:
            raise ValueError(f"no source for {name}")
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for file in files:
            hasher.update(file.read_bytes())
    return hasher.hexdigest()[:12]


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _plain_name(name: object) -> str:
    """A bare file name from an entry; anything that could leave the folder is corrupt."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _fsync_folder(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
