"""AdMediaFetcher: a cached ad is never downloaded again, short links included (D17)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from knightvision.providers.ad_source import (
    AdMediaFetcher,
    AdRef,
    FetchedMedia,
    MediaCache,
    SourceError,
    import_ad_media,
)
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from tests.fakes.ad_server import AdServer, Reply
from tests.fixtures.ad_source import video_page

Source = Callable[..., YtDlpSource]
RefFor = Callable[[str], AdRef]


class RefusingSource:
    """A source that fails the test if it is ever asked for anything."""

    def resolve(self, ref: AdRef) -> AdRef:
        raise AssertionError("resolve() called")

    def fetch(self, ref: AdRef, dest_dir: Path) -> FetchedMedia:
        raise AssertionError("fetch() called")


def test_a_cache_hit_never_calls_the_source(tmp_path: Path, clip_file: Path) -> None:
    cache = MediaCache(tmp_path / "cache")
    seeded = import_ad_media(cache, "https://www.instagram.com/reel/Cx9AbC/", clip_file)
    fetcher = AdMediaFetcher(cache, RefusingSource())
    assert (
        fetcher.obtain(
            AdRef("instagram", "https://www.instagram.com/p/Cx9AbC/", "instagram:Cx9AbC"), tmp_path
        )
        == seeded
    )


def test_the_second_analysis_makes_no_request(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    server.route("/ads/library/?id=3001", video_page("/media/clip.mp4", title="Ad"))
    fetcher = AdMediaFetcher(MediaCache(tmp_path / "cache"), make_source())
    scratch = tmp_path / "scratch"
    first = fetcher.obtain(ref_for("/ads/library/?id=3001"), scratch)
    assert first.canonical_key == "facebook:3001" and first.path.read_bytes() == clip
    assert first.source_url == server.url("/ads/library/?id=3001")
    assert os.listdir(scratch) == []  # the download moved into the cache; no scratch copy stays
    requests = server.total()
    assert requests >= 2
    again = fetcher.obtain(ref_for("/ads/library/?id=3001&utm_source=x"), scratch)
    assert again == first
    assert server.total() == requests


def test_a_short_link_costs_one_head_request_once_cached(
    server: AdServer, make_source: Source, ref_for: RefFor, tmp_path: Path
) -> None:
    server.route("/share/v/Qq1/", Reply.redirect("/reel/3002/"))
    server.route("/reel/3002/", video_page("/media/clip.mp4"))
    fetcher = AdMediaFetcher(MediaCache(tmp_path / "cache"), make_source())
    first = fetcher.obtain(ref_for("/share/v/Qq1/"), tmp_path / "scratch")
    assert first.canonical_key == "facebook:3002"
    server.calls.clear()
    assert fetcher.obtain(ref_for("/share/v/Qq1/"), tmp_path / "scratch") == first
    assert server.calls == [("HEAD", "/share/v/Qq1/")]
    assert (
        fetcher.obtain(ref_for("/reel/3002"), tmp_path / "scratch") == first
    )  # the same ad by its own URL


def test_the_carousel_flag_is_kept(
    server: AdServer, make_source: Source, ref_for: RefFor, tmp_path: Path
) -> None:
    cards = '<video src="/media/clip.mp4"></video><video src="/media/clip.mp4?2"></video>'
    server.route("/ads/library/?id=3003", Reply.page(f"<html><body>{cards}</body></html>"))
    cache = MediaCache(tmp_path / "cache")
    stored = AdMediaFetcher(cache, make_source()).obtain(
        ref_for("/ads/library/?id=3003"), tmp_path / "scratch"
    )
    assert stored.carousel is True and cache.get("facebook:3003") == stored


def test_a_failed_download_caches_nothing(
    server: AdServer, make_source: Source, ref_for: RefFor, tmp_path: Path
) -> None:
    server.route("/ads/library/?id=3004", Reply.page("gone", status=404))
    cache = MediaCache(tmp_path / "cache")
    with pytest.raises(SourceError) as caught:
        AdMediaFetcher(cache, make_source()).obtain(
            ref_for("/ads/library/?id=3004"), tmp_path / "scratch"
        )
    assert caught.value.code == "source_unavailable"
    assert cache.get("facebook:3004") is None
