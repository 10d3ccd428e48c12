"""Ad-source fixtures: a real small MP4, a loopback "platform" serving it, and a YtDlpSource aimed
at it.

yt-dlp's site extractors only match the real hosts, so the source under test allows the loopback
``host:port`` (as a Facebook host) and runs yt-dlp's generic and HTML5 extractors instead.
Everything else (networking, format selection, the downloader, our caps and checks) is real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from knightvision.providers.ad_source.urls import ALLOWED_HOSTS, AdRef, Platform, parse_ad_url
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from tests.fakes.ad_server import AdServer, Reply
from tests.fixtures.ad_source import write_mp4

TEST_EXTRACTORS = ("generic", "html5")


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture(scope="session")
def clip(clip_file: Path) -> bytes:
    return clip_file.read_bytes()


@pytest.fixture
def server(clip: bytes) -> Iterator[AdServer]:
    with AdServer() as running:
        running.route("/media/clip.mp4", Reply(body=clip, content_type="video/mp4"))
        yield running


@pytest.fixture
def hosts(server: AdServer) -> dict[str, Platform]:
    return {**ALLOWED_HOSTS, server.host: "facebook"}


@pytest.fixture
def ref_for(server: AdServer, hosts: dict[str, Platform]) -> Callable[[str], AdRef]:
    """The AdRef the API would accept for a path on the loopback platform."""
    return lambda path: parse_ad_url(server.url(path), hosts=hosts)


@pytest.fixture
def make_source(hosts: dict[str, Platform]) -> Callable[..., YtDlpSource]:
    def make(**overrides: Any) -> YtDlpSource:
        options: dict[str, Any] = {
            "cookies_file": None,
            "max_bytes": 2_000_000,
            "max_duration_s": 60,
            "timeout_s": 10.0,
            "allowed_hosts": hosts,
            "extractors": TEST_EXTRACTORS,
        }
        return YtDlpSource(**{**options, **overrides})

    return make
