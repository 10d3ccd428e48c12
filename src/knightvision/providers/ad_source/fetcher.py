"""Cache first, source second: the one call the analysis pipeline's "downloading" stage needs
(D17)."""

from __future__ import annotations

from pathlib import Path

from knightvision.providers.ad_source.cache import CachedMedia, MediaCache, MediaMeta
from knightvision.providers.ad_source.port import AdSource
from knightvision.providers.ad_source.urls import AdRef


class AdMediaFetcher:
    """Cache first, source second. Blocking (run it in a thread); raises ``SourceError``."""

    def __init__(self, cache: MediaCache, source: AdSource) -> None:
        self.cache = cache
        self.source = source

    def obtain(self, ref: AdRef, scratch_dir: Path) -> CachedMedia:
        """The ad's video from the cache, downloading it first if it is not there yet.

        The downloaded scratch copy is removed once it is in the cache. Two jobs racing on one new
        ad may both download it; the cache stores the bytes once either way.
        """
        if ref.canonical_key is None:
            ref = self.source.resolve(ref)
        if ref.canonical_key is not None and (hit := self.cache.get(ref.canonical_key)) is not None:
            return hit
        fetched = self.source.fetch(ref, scratch_dir)
        try:
            return self.cache.put(
                fetched.canonical_key,
                fetched.path,
                MediaMeta(
                    source_url=fetched.source_url, title=fetched.title, carousel=fetched.carousel
                ),
            )
        finally:
            fetched.path.unlink(missing_ok=True)
