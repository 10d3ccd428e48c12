"""Ad-source fixtures: a real small MP4, a loopback "platform" serving it, and a YtDlpSource aimed at it.

yt-dlp's site extractors only match the real hosts, so the source under test allows the loopback
``host:port`` (as a Facebook host) and runs yt-dlp's generic and HTML5 extractors instead.
Everything else (networking, format selection, the downloader, our caps and checks) is real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from knightvision.providers.ad_source.urls import ALLOWED_HOSTS, AdRef, Platform, parse_ad_url
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from tests.fakes.ad_server import AdServer, Reply

TEST_EXTRACTORS = ("generic", "html5")


def write_mp4(
    path: Path, seconds: int = 2, *, width: int = 320, height: int = 240, fps: int = 10
) -> Path:
    """An H.264 + AAC MP4: a changing grey picture and a quiet tone."""
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=16_000, layout="mono")
        for index in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(
                np.full((height, width, 3), index * 9 % 256, np.uint8), format="rgb24"
            )
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        samples = (0.1 * np.sin(np.arange(seconds * 16_000, dtype=np.float32) * 0.17)).astype(
            np.float32
        )
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024], format="flt", layout="mono"
            )
            frame.sample_rate, frame.time_base, frame.pts = 16_000, Fraction(1, 16_000), start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mp4(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture(scope="session")
def clip(clip_file: Path) -> bytes:
    return clip_file.read_bytes()


def video_page(src: str, title: str = "An ad") -> Reply:
    return Reply.page(
        f'<html><head><title>{title}</title></head><body><video src="{src}"></video></body></html>'
    )


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
