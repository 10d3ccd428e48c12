"""Ad media for the analysis pipeline's "downloading" stage: validate, resolve, cache, fetch (D17).

``AdMediaFetcher.obtain`` is the one call the pipeline needs: a cached ad (by canonical key) is
returned without touching the network beyond resolving a short link; anything else is fetched
once, stored in the content-addressed cache, and returned from there.
"""

from __future__ import annotations

from pathlib import Path

from knightvision.providers.ad_source.cache import (
    CachedMedia,
    ImportRefused,
    MediaCache,
    MediaMeta,
    import_ad_media,
)
from knightvision.providers.ad_source.port import AdSource, FetchedMedia, SourceError
from knightvision.providers.ad_source.urls import ALLOWED_HOSTS, AdRef, InvalidAdUrl, parse_ad_url

__all__ = [
    "ALLOWED_HOSTS",
    "AdMediaFetcher",
    "AdRef",
    "AdSource",
    "CachedMedia",
    "FetchedMedia",
    "ImportRefused",
    "InvalidAdUrl",
    "MediaCache",
    "MediaMeta",
    "SourceError",
    "import_ad_media",
    "parse_ad_url",
]


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
