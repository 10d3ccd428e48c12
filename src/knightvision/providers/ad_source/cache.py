"""Downloaded ad media, kept by content and found by canonical key, so re-analysis never
downloads twice (D17).

Layout under ``root``::

    blobs/<sha256[:2]>/<sha256>.mp4      the bytes, stored once whatever keys point at them
    keys/<platform>/<id>.json            {sha256, size, source_url, title, carousel, created_at}

Every file appears whole or not at all (written aside, fsynced, renamed), so concurrent jobs and
crashes leave either the old entry or the new one. Blobs are shared: treat ``CachedMedia.path``
as read-only. A key whose blob has gone missing reads as a miss and is simply fetched again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knightvision.kit.clock import format_wire, utcnow
from knightvision.kit.files import atomic_copy, atomic_write
from knightvision.providers.ad_source.media_check import NotAVideo, check_video
from knightvision.providers.ad_source.urls import PLATFORMS, AdRef, InvalidAdUrl, parse_ad_url

_KEY = re.compile(r"(?P<platform>[a-z]+):(?P<id>[A-Za-z0-9_-]{1,80})")


@dataclass(frozen=True)
class MediaMeta:
    source_url: str | None
    title: str | None = None
    carousel: bool = False


@dataclass(frozen=True)
class CachedMedia:
    canonical_key: str
    path: Path
    sha256: str
    size: int
    source_url: str | None
    title: str | None
    carousel: bool
    created_at: str


class ImportRefused(ValueError):
    """``knightvision ads import`` cannot take this URL or file; the message says why."""


class MediaCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, canonical_key: str) -> CachedMedia | None:
        """The cached media for ``canonical_key``, or None (never stored, or its blob is gone)."""
        entry_path = self._entry_path(
            canonical_key
        )  # a malformed key is a bug: ValueError, not a miss
        try:
            entry = json.loads(entry_path.read_text("utf-8"))
            blob = self._blob_path(entry["sha256"])
            if blob.stat().st_size != entry["size"]:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return _cached(canonical_key, blob, entry)

    def put(self, canonical_key: str, file: Path, meta: MediaMeta) -> CachedMedia:
        """Store ``file`` (copied) under ``canonical_key``. Same key and same bytes again
        changes nothing."""
        entry_path = self._entry_path(canonical_key)
        sha256, size = _digest(file)
        existing = self.get(canonical_key)
        if existing is not None and existing.sha256 == sha256:
            return existing
        blob = self._blob_path(sha256)
        if not (blob.is_file() and blob.stat().st_size == size):
            atomic_copy(file, blob)
        entry = {
            "sha256": sha256,
            "size": size,
            "source_url": meta.source_url,
            "title": meta.title,
            "carousel": meta.carousel,
            "created_at": format_wire(utcnow()),
        }
        atomic_write(entry_path, json.dumps(entry, indent=2).encode("utf-8"))
        return _cached(canonical_key, blob, entry)

    def import_file(self, ref_or_key: AdRef | str, file: Path) -> CachedMedia:
        """Seed the cache by hand: ``file`` must be a playable video and the ad must have a key."""
        if isinstance(ref_or_key, AdRef):
            if ref_or_key.canonical_key is None:
                raise ImportRefused(
                    "This URL does not name an ad or post (short links and other page shapes"
                    " cannot be imported); use the ad's full URL or its numeric Ad Library id."
                )
            key, source_url = ref_or_key.canonical_key, ref_or_key.url
        else:
            key, source_url = ref_or_key, None
        if not _KEY.fullmatch(key) or key.partition(":")[0] not in PLATFORMS:
            raise ImportRefused(f"Not a canonical key: {key!r}")
        if not file.is_file():
            raise ImportRefused(f"No such file: {file}")
        try:
            check_video(file)
        except NotAVideo as exc:
            raise ImportRefused(f"{file} is not a playable video ({exc})") from exc
        return self.put(key, file, MediaMeta(source_url=source_url))

    def _entry_path(self, canonical_key: str) -> Path:
        match = _KEY.fullmatch(canonical_key)
        if match is None or match["platform"] not in PLATFORMS:
            raise ValueError(f"not a canonical key: {canonical_key!r}")
        return self.root / "keys" / match["platform"] / f"{match['id']}.json"

    def _blob_path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256")
        return self.root / "blobs" / sha256[:2] / f"{sha256}.mp4"


def import_ad_media(cache: MediaCache, url: str, file: Path) -> CachedMedia:
    """``knightvision ads import URL FILE``: validate the URL as the API would, then import."""
    try:
        ref = parse_ad_url(url)
    except InvalidAdUrl as exc:
        raise ImportRefused(
            "Please provide a valid Facebook, Instagram, or TikTok URL (or a numeric ad id)."
        ) from exc
    return cache.import_file(ref, file)


def _cached(canonical_key: str, blob: Path, entry: dict[str, Any]) -> CachedMedia:
    return CachedMedia(
        canonical_key=canonical_key,
        path=blob,
        sha256=entry["sha256"],
        size=entry["size"],
        source_url=entry.get("source_url"),
        title=entry.get("title"),
        carousel=bool(entry.get("carousel")),
        created_at=entry["created_at"],
    )


def _digest(file: Path) -> tuple[str, int]:
    hasher, size = hashlib.sha256(), 0
    with open(file, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size
