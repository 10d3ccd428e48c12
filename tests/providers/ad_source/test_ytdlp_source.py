"""YtDlpSource end to end: real yt-dlp against a loopback platform, for each outcome a job can
have (D17)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from knightvision.providers.ad_source.media_check import check_video
from knightvision.providers.ad_source.port import SourceError
from knightvision.providers.ad_source.urls import AdRef
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from tests.fakes.ad_server import AdServer, Reply
from tests.fixtures.ad_source import video_page

Source = Callable[..., YtDlpSource]
RefFor = Callable[[str], AdRef]


def test_downloads_the_video_of_an_ad_page(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    server.route("/ads/library/?id=1001", video_page("/media/clip.mp4", title="Summer sale"))
    media = make_source().fetch(ref_for("/ads/library/?id=1001"), tmp_path)
    assert media.canonical_key == "facebook:1001"
    assert media.platform == "facebook"
    assert media.source_url == server.url("/ads/library/?id=1001")
    assert media.carousel is False
    assert media.title and "Summer sale" in media.title
    assert media.path.parent == tmp_path and media.path.read_bytes() == clip
    assert media.duration == pytest.approx(2.0, abs=0.1)
    assert check_video(media.path).has_audio
    assert os.listdir(tmp_path) == [media.path.name]  # yt-dlp's working corner is gone


def test_open_graph_video(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    meta = f'<meta property="og:video" content="{server.url("/media/clip.mp4")}">'
    og = f"<html><head><title>OG</title>{meta}</head></html>"
    server.route("/watch/?v=1002", Reply.page(og))
    media = make_source().fetch(ref_for("/watch?v=1002&ref=share"), tmp_path)
    assert (media.canonical_key, media.path.read_bytes()) == ("facebook:1002", clip)


def test_direct_media_link(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    server.route("/reel/1003/", Reply(body=clip, content_type="video/mp4"))
    media = make_source().fetch(ref_for("/reel/1003"), tmp_path)
    assert (media.canonical_key, media.path.read_bytes()) == ("facebook:1003", clip)


def test_carousel_is_analysed_on_its_first_video(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    server.route("/media/voice.m4a", Reply(body=b"\0" * 2048, content_type="audio/mp4"))
    server.route("/media/second.mp4", Reply(body=b"not this one", content_type="video/mp4"))
    cards = (
        '<audio src="/media/voice.m4a"></audio><video src="/media/clip.mp4"></video>'
        '<video src="/media/second.mp4"></video>'
    )
    server.route(
        "/ads/library/?id=1004",
        Reply.page(f"<html><head><title>Cards</title></head><body>{cards}</body></html>"),
    )
    media = make_source().fetch(ref_for("/ads/library/?id=1004"), tmp_path)
    assert media.carousel is True
    assert media.canonical_key == "facebook:1004"  # the ad's key, not a card's
    assert media.path.read_bytes() == clip
    assert server.count("/media/second.mp4") == 0 and server.count("/media/voice.m4a") == 0


def test_short_link_is_resolved_and_keyed_after_resolution(
    server: AdServer, make_source: Source, ref_for: RefFor, clip: bytes, tmp_path: Path
) -> None:
    server.route("/share/v/AbC/", Reply.redirect("/share/r/XyZ/", status=301))
    server.route("/share/r/XyZ/", Reply.redirect(server.url("/reel/1005/?mibextid=1")))
    server.route("/reel/1005/", Reply(body=clip, content_type="video/mp4"))
    ref = ref_for("/share/v/AbC/")
    assert ref.canonical_key is None
    media = make_source().fetch(ref, tmp_path)
    assert media.canonical_key == "facebook:1005"
    assert media.source_url == server.url("/reel/1005/")
    assert (
        server.count("/reel/1005/?mibextid=1") == 0
    )  # the keyed URL is rebuilt, never fetched as given


def test_cookies_are_sent_from_a_private_copy(
    server: AdServer, make_source: Source, ref_for: RefFor, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsessionid\tsecret-value\n"
    )
    before = cookies.read_bytes()
    server.route("/ads/library/?id=1006", video_page("/media/clip.mp4"))
    dest = tmp_path / "scratch"
    media = make_source(cookies_file=cookies).fetch(ref_for("/ads/library/?id=1006"), dest)
    assert "sessionid=secret-value" in server.headers["/ads/library/?id=1006"].get("Cookie", "")
    assert (
        cookies.read_bytes() == before
    )  # yt-dlp saves cookies on close: never into the operator's file
    assert os.listdir(dest) == [media.path.name]  # and the copy is gone


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ERRORS = [
    # (name, the ad page's reply, other routes, source options, code, retryable)
    ("404", Reply.page("gone", status=404), {}, {}, "source_unavailable", False),
    ("410", Reply.page("gone", status=410), {}, {}, "source_unavailable", False),
    ("403", Reply.page("forbidden", status=403), {}, {}, "source_unavailable", False),
    ("401", Reply.page("log in", status=401), {}, {}, "source_login_required", False),
    ("503", Reply.page("busy", status=503), {}, {}, "source_unavailable", True),
    ("429", Reply.page("slow down", status=429), {}, {}, "source_unavailable", True),
    (
        "novideo",
        Reply.page(
            "<html><head><title>Text ad</title></head><body><img src='/a.jpg'></body></html>"
        ),
        {},
        {},
        "source_unsupported",
        False,
    ),
    (
        "audio",
        Reply.page('<html><body><audio src="/media/voice.m4a"></audio></body></html>'),
        {"/media/voice.m4a": Reply(body=b"\0" * 2048, content_type="audio/mp4")},
        {},
        "source_not_video",
        False,
    ),
    (
        "garbage",
        video_page("/media/garbage.mp4"),
        {
            "/media/garbage.mp4": Reply(
                body=b"<html>this is no video</html>" * 50, content_type="video/mp4"
            )
        },
        {},
        "source_not_video",
        False,
    ),
    (
        "big",
        video_page("/media/big.mp4"),
        {"/media/big.mp4": Reply(body=os.urandom(150_000), content_type="video/mp4")},
        {"max_bytes": 100_000},
        "source_too_large",
        False,
    ),
    (
        "bigchunked",
        video_page("/media/big.mp4"),
        {
            "/media/big.mp4": Reply(
                body=os.urandom(150_000), content_type="video/mp4", content_length=False
            )
        },
        {"max_bytes": 100_000},
        "source_too_large",
        False,
    ),
    ("long", video_page("/media/clip.mp4"), {}, {"max_duration_s": 1}, "source_too_large", False),
    ("stall", Reply(body=b"late", delay_s=3.0), {}, {"timeout_s": 0.5}, "source_timeout", True),
    (
        "drip",
        video_page("/media/drip.mp4"),
        {
            "/media/drip.mp4": Reply(
                body=os.urandom(400_000), content_type="video/mp4", drip=(4096, 0.05)
            )
        },
        {"timeout_s": 1.0},
        "source_timeout",
        True,
    ),
    (
        "sites",
        video_page("/media/clip.mp4"),
        {},
        {"extractors": ("facebook:ads", "facebook")},
        "source_unsupported",
        False,
    ),
]


@pytest.mark.parametrize(
    ("ad_id", "reply", "extra", "options", "code", "retryable"),
    [pytest.param(2000 + n, *case[1:], id=case[0]) for n, case in enumerate(ERRORS)],
)
def test_error_codes(
    server: AdServer,
    make_source: Source,
    ref_for: RefFor,
    tmp_path: Path,
    ad_id: int,
    reply: Reply,
    extra: dict[str, Reply],
    options: dict,
    code: str,
    retryable: bool,
) -> None:
    server.route(f"/ads/library/?id={ad_id}", reply)
    for path, extra_reply in extra.items():
        server.route(path, extra_reply)
    with pytest.raises(SourceError) as caught:
        make_source(**options).fetch(ref_for(f"/ads/library/?id={ad_id}"), tmp_path)
    assert (caught.value.code, caught.value.retryable) == (code, retryable), caught.value.detail
    assert (
        "ERROR" not in caught.value.message and "http" not in caught.value.message
    )  # partner-safe text
    assert os.listdir(tmp_path) == []  # nothing half-downloaded is left behind


def test_unreachable_platform_is_retryable(make_source: Source, tmp_path: Path) -> None:
    port = _closed_port()
    hosts = {f"127.0.0.1:{port}": "facebook"}
    source = make_source(allowed_hosts=hosts)
    with pytest.raises(SourceError) as caught:
        source.fetch(
            AdRef("facebook", f"http://127.0.0.1:{port}/ads/library/?id=1", "facebook:1"), tmp_path
        )
    assert (caught.value.code, caught.value.retryable) == ("source_unavailable", True)


def test_a_ref_off_the_allowlist_is_refused_without_a_request(
    server: AdServer, make_source: Source, tmp_path: Path
) -> None:
    forged = AdRef(
        "facebook", server.url("/ads/library/?id=1").replace("127.0.0.1", "localhost"), "facebook:1"
    )
    with pytest.raises(SourceError) as caught:
        make_source().fetch(forged, tmp_path)
    assert caught.value.code == "source_unsupported"
    assert server.total() == 0


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        pytest.param(
            {"url": "u", "duration": 61}, "source_too_large", id="duration-known-before-download"
        ),
        pytest.param(
            {"url": "u", "filesize": 2_000_001}, "source_too_large", id="size-known-before-download"
        ),
        pytest.param(
            {"url": "u", "vcodec": "none", "acodec": "aac"}, "source_not_video", id="audio-only"
        ),
        pytest.param({"format_id": "none"}, "source_not_video", id="no-format"),
        pytest.param({"url": "u", "is_live": True}, "source_unsupported", id="live"),
    ],
)
def test_metadata_refusals_before_any_download(make_source: Source, entry: dict, code: str) -> None:
    """Real sites report these in their metadata; the loopback generic extractor cannot, so they
    are checked here."""
    with pytest.raises(SourceError) as caught:
        make_source(max_bytes=2_000_000, max_duration_s=60)._precheck(entry)
    assert caught.value.code == code


def test_metadata_within_the_caps_passes(make_source: Source) -> None:
    make_source()._precheck({"url": "u", "duration": 60, "filesize": 2_000_000, "vcodec": "avc1"})
