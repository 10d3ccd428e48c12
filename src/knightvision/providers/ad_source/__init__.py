"""Ad media for the analysis pipeline's "downloading" stage: validate, resolve, cache, fetch (D17).

``AdMediaFetcher.obtain`` is the one call the pipeline needs: a cached ad (by canonical key) is
returned without touching the network beyond resolving a short link; anything else is fetched
once, stored in the content-addressed cache, and returned from there.
"""

from __future__ import annotations

from knightvision.providers.ad_source.cache import (
    CachedMedia,
    ImportRefused,
    MediaCache,
    MediaMeta,
    import_ad_media,
)
from knightvision.providers.ad_source.fetcher import AdMediaFetcher
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
