"""Finished media at permanent public URLs (D2), with HTTP's own caching and ranges, and throttled
misses (D9).

Videos are addressed by their job id, character videos by an unguessable token; both are public.
A client address that keeps missing is refused before anything is looked up, so it cannot learn
which guessed names exist.

HTTP semantics (RFC 9110): ``GET`` and ``HEAD``; ``ETag`` and ``Last-Modified`` with
``If-None-Match`` / ``If-Modified-Since`` answered 304; byte ranges, ``If-Range`` and multipart
ranges by Starlette's ``FileResponse``. A ``Range`` in a unit other than bytes, or not a valid
byte-range set, is ignored and the whole file sent (§14.2); a set no byte of which lies in the
file is a 416 in our JSON error format with ``Content-Range: bytes */<size>``.
"""

from __future__ import annotations

import os
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from knightvision.api.guard import client_address
from knightvision.api.routing import DirectRoute
from knightvision.character.service import character_video_key
from knightvision.container import Container
from knightvision.errors import NotFoundError, RangeNotSatisfiableError, RateLimitedError
from knightvision.kit.ids import is_video_job_id
from knightvision.pricing import RateLimitBucket
from knightvision.video.pipeline import video_key

_CHARACTER_TOKEN = re.compile(r"[0-9a-f]{24}")


def static_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/static", include_in_schema=False, route_class=DirectRoute)

    @router.api_route("/videos/{filename}", methods=["GET", "HEAD"])
    async def video_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = video_key(name) if filename.endswith(".mp4") and is_video_job_id(name) else None
        return await _public_file(request, container, key)

    @router.api_route("/characters/{filename}", methods=["GET", "HEAD"])
    async def character_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = (
            character_video_key(name)
            if filename.endswith(".mp4") and _CHARACTER_TOKEN.fullmatch(name)
            else None
        )
        return await _public_file(request, container, key)

    return router


async def _public_file(request: Request, container: Container, key: str | None) -> Response:
    settings = container.settings
    address = client_address(request, settings.trusted_proxies)
    refused = await container.limiter.exceeded(
        RateLimitBucket.STATIC_MISSES, address, settings.static_misses_per_minute
    )
    if refused is not None:
        raise RateLimitedError(retry_after=refused.retry_after)
    path = container.storage.local_path(key) if key is not None else None
    if path is None:
        decision = await container.limiter.hit(
            RateLimitBucket.STATIC_MISSES, address, settings.static_misses_per_minute
        )
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)
        raise NotFoundError()
    return _file_response(request, path)


#: One byte-range-spec of a ``bytes=`` range set: ``first-last``, ``first-`` or ``-suffix``.
_BYTE_RANGE = re.compile(r"\s*(?:(\d+)-(\d*)|-(\d+))\s*")
_CACHE_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}


def _file_response(request: Request, path: Path) -> Response:
    stat = os.stat(path)
    response = _PublicFile(path, media_type="video/mp4", headers=_CACHE_FOREVER, stat_result=stat)
    validators = {
        name: response.headers[name]
        for name in ("etag", "last-modified")
        if name in response.headers
    }
    if _not_modified(request, validators):
        return Response(status_code=304, headers={**_CACHE_FOREVER, **validators})
    byte_range = request.headers.get("range")
    if byte_range is not None:
        starts = _range_starts(byte_range)
        if starts is None:
            response.ignore_range = True
        elif all(start >= stat.st_size for start in starts):
            raise RangeNotSatisfiableError(size=stat.st_size)
    return response


def _range_starts(header: str) -> list[int] | None:
    """The first byte of each range in a ``bytes=`` range set (a suffix range starts inside any
    non-empty file: 0), or None when the header is to be ignored (another unit, bad syntax)."""
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes" or not ranges.strip():
        return None
    starts = []
    for spec in ranges.split(","):
        match = _BYTE_RANGE.fullmatch(spec)
        if match is None:
            return None
        first, last, suffix = match.groups()
        if suffix is not None:
            if int(suffix) == 0:
                return None
            starts.append(0)
        elif last and int(last) < int(first):
            return None
        else:
            starts.append(int(first))
    return starts


def _not_modified(request: Request, validators: dict[str, str]) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) decides when present, else
    If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        etag = validators.get("etag", "").removeprefix("W/")
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or (bool(etag) and etag in tags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or "last-modified" not in validators:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
        return parsedate_to_datetime(validators["last-modified"]) <= since
    except (TypeError, ValueError):  # an unreadable date is ignored (§13.1.3)
        return False


class _PublicFile(FileResponse):
    """A stored file; ``ignore_range`` sends it whole whatever the request's ``Range`` says."""

    ignore_range = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ignore_range:
            headers = [(k, v) for k, v in scope["headers"] if k not in (b"range", b"if-range")]
            scope = {**scope, "headers": headers}
        await super().__call__(scope, receive, send)
