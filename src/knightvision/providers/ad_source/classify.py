"""yt-dlp's failures, sorted into the job error codes partners see (D17).

yt-dlp raises ``DownloadError`` around an ``ExtractorError`` around the network error. We look at
the real objects first (an HTTP status, a timeout) and fall back to the messages the extractors
use (login prompts, "Unsupported URL", "No video formats found"), because many site failures
exist only as text. What we cannot place is ``source_unavailable``: the partner gets a refund
and a plain message; the yt-dlp text goes to ``detail`` for the logs only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import UnsupportedError

from knightvision.providers.ad_source.port import (
    SOURCE_LOGIN_REQUIRED,
    SOURCE_NOT_VIDEO,
    SOURCE_TIMEOUT,
    SOURCE_UNAVAILABLE,
    SOURCE_UNSUPPORTED,
    SourceError,
)

_LOGIN = re.compile(
    r"\blog ?in(?:to)?\b|\bsign ?in\b|registered users|--cookies|cookies for the authentication|"
    r"follow this account|confirm (?:your age|you.re not a bot)|age.restricted",
    re.IGNORECASE,
)
_UNSUPPORTED = re.compile(r"unsupported url|no suitable extractor", re.IGNORECASE)
_NOT_VIDEO = re.compile(
    r"no video formats|requested format is not available|no media found|is an image", re.IGNORECASE
)
_TIMEOUT = re.compile(r"\btimed out\b", re.IGNORECASE)

MESSAGES = {
    SOURCE_LOGIN_REQUIRED: "The platform asks for a login to show this ad.",
    SOURCE_UNSUPPORTED: "This page is not a kind of ad or post we can download.",
    SOURCE_NOT_VIDEO: "This ad has no video.",
    SOURCE_TIMEOUT: "The platform did not answer in time.",
    SOURCE_UNAVAILABLE: "The ad is not available: it may be private, removed or never existed.",
}
_RETRY_LATER = "The platform is not answering right now."


def classify(exc: BaseException) -> SourceError:
    """The ``SourceError`` for a yt-dlp exception (usually a ``DownloadError``)."""
    chain = list(_chain(exc))
    detail = str(exc)[:500]
    for link in chain:
        if isinstance(link, HTTPError):
            return _from_status(link.status, detail)
    if any(isinstance(link, TimeoutError) for link in chain) or _TIMEOUT.search(detail):
        return SourceError(SOURCE_TIMEOUT, MESSAGES[SOURCE_TIMEOUT], True, detail=detail)
    if any(isinstance(link, UnsupportedError) for link in chain) or _UNSUPPORTED.search(detail):
        return _error(SOURCE_UNSUPPORTED, detail)
    if _LOGIN.search(detail):
        return _error(SOURCE_LOGIN_REQUIRED, detail)
    if _NOT_VIDEO.search(detail):
        return _error(SOURCE_NOT_VIDEO, detail)
    if any(isinstance(link, TransportError) for link in chain):
        return SourceError(
            SOURCE_UNAVAILABLE, "The platform could not be reached.", True, detail=detail
        )
    return _error(SOURCE_UNAVAILABLE, detail)


def _from_status(status: int, detail: str) -> SourceError:
    if status == 401:
        return _error(SOURCE_LOGIN_REQUIRED, detail)
    if status == 429 or status >= 500:
        return SourceError(SOURCE_UNAVAILABLE, _RETRY_LATER, True, detail=detail)
    return _error(SOURCE_UNAVAILABLE, detail)


def _error(code: str, detail: str) -> SourceError:
    return SourceError(code, MESSAGES[code], detail=detail)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and everything it wraps: ``exc_info``, ``cause``, ``__cause__``,
    ``__context__``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        link = pending.pop(0)
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        exc_info = getattr(link, "exc_info", None)
        if (
            isinstance(exc_info, tuple)
            and len(exc_info) > 1
            and isinstance(exc_info[1], BaseException)
        ):
            pending.append(exc_info[1])
        for nested in (getattr(link, "cause", None), link.__cause__, link.__context__):
            if isinstance(nested, BaseException):
                pending.append(nested)
