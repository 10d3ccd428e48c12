"""yt-dlp failures that only real sites produce (login walls, image ads), mapped to D17's codes."""

from __future__ import annotations

import io
import sys

import pytest
from yt_dlp.networking import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError, UnsupportedError

from knightvision.providers.ad_source.classify import classify
from knightvision.providers.ad_source.port import SourceError


def _download_error(cause: BaseException) -> DownloadError:
    """What YoutubeDL raises: a DownloadError carrying the extractor's exception in exc_info."""
    try:
        raise cause
    except type(cause):
        return DownloadError(f"ERROR: {cause}", sys.exc_info())


def _http(status: int) -> ExtractorError:
    response = Response(io.BytesIO(b""), "https://www.facebook.com/x", {}, status=status)
    return ExtractorError("Unable to download webpage", cause=HTTPError(response))


CASES = [
    (
        ExtractorError(
            "This video is only available for registered users. "
            "Use --cookies-from-browser or --cookies",
            expected=True,
        ),
        "source_login_required",
        False,
    ),
    (
        ExtractorError(
            "You do not have permission to view this post. Log into an account that has access",
            expected=True,
        ),
        "source_login_required",
        False,
    ),
    (
        ExtractorError(
            "This content is only available for registered users who follow this account",
            expected=True,
        ),
        "source_login_required",
        False,
    ),
    (
        ExtractorError(
            'The video is not available, Facebook said: "This content isn\'t available right now"',
            expected=True,
        ),
        "source_unavailable",
        False,
    ),
    (ExtractorError("Video not available, status code 10204"), "source_unavailable", False),
    (ExtractorError("[facebook:ads] 123: No video formats found!"), "source_not_video", False),
    (
        ExtractorError("Requested format is not available. Use --list-formats", expected=True),
        "source_not_video",
        False,
    ),
    (UnsupportedError("https://www.facebook.com/SomeBrand"), "source_unsupported", False),
    (
        ExtractorError(
            "Unable to download webpage", cause=TransportError(cause=TimeoutError("timed out"))
        ),
        "source_timeout",
        True,
    ),
    (
        ExtractorError(
            "Unable to download webpage", cause=TransportError("[Errno 111] Connection refused")
        ),
        "source_unavailable",
        True,
    ),
    (_http(500), "source_unavailable", True),
    (_http(404), "source_unavailable", False),
    (_http(401), "source_login_required", False),
    (ValueError("something nobody expected"), "source_unavailable", False),
]


@pytest.mark.parametrize(
    ("cause", "code", "retryable"), CASES, ids=[f"{n}-{c[1]}" for n, c in enumerate(CASES)]
)
def test_mapping(cause: BaseException, code: str, retryable: bool) -> None:
    error = classify(_download_error(cause))
    assert (error.code, error.retryable) == (code, retryable)
    assert "--cookies" not in error.message and "ERROR" not in error.message
    assert error.detail and "ERROR" in error.detail


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown source error code 'source_weird'"):
        SourceError("source_weird", "?")
