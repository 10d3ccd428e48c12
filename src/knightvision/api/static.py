"""Finished media at permanent public URLs (D2), with HTTP's own caching and ranges, and throttled
misses (D9).

Videos are addressed by their job id, character videos by an unguessable token; both are public.
A file that exists is always served. Misses are counted per client address, and past that
throttle each further miss is answered 429 after a delay (ADR 0007), which slows guessing names.

HTTP semantics (RFC 9110): ``GET`` and ``HEAD``; ``ETag`` and ``Last-Modified`` with
``If-None-Match`` / ``If-Modified-Since`` answered 304; byte ranges, ``If-Range`` and multipart
ranges by Starlette's ``FileResponse``. A ``Range`` in a unit other than bytes, or not a valid
byte-range set, is ignored and the whole file sent (§14.2); a set no byte of which lies in the
file is a 416 in our JSON error format with ``Content-Range: bytes */<size>``.

Local files go out through ``FileResponse`` as they are. Objects in an S3-compatible store are
streamed through this process by the same response, reading byte ranges from the store as it goes
(nothing is kept on the API host), so the permanent URL, ranges and validators behave the same;
with ``storage_redirect`` a found object is answered by a 302 to a presigned URL instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat as stat_mode
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from knightvision.api.proxies import TrustedProxies
from knightvision.api.routing import DirectRoute
from knightvision.api.throttle import AddressThrottle
from knightvision.character.service import character_video_key
from knightvision.container import Container
from knightvision.errors import NotFoundError, RangeNotSatisfiableError
from knightvision.kit.ids import is_video_job_id
from knightvision.pricing import RateLimitBucket
from knightvision.providers.storage.port import MediaStorage, StoredObject
from knightvision.video.pipeline import video_key

_CHARACTER_TOKEN = re.compile(r"[0-9a-f]{24}")


def static_router(container: Container, proxies: TrustedProxies) -> APIRouter:
    router = APIRouter(prefix="/static", include_in_schema=False, route_class=DirectRoute)
    settings = container.settings
    misses = AddressThrottle(
        container.limiter,
        RateLimitBucket.STATIC_MISSES,
        settings.static_misses_per_minute,
        settings.throttle_delay_seconds,
        "/static misses",
    )

    async def public_file(request: Request, key: str | None) -> Response:
        found = await _found_file(request, container, key)
        if found is None:
            await misses.failed(proxies.client_address(request.scope))
            raise NotFoundError()
        return found

    @router.api_route("/videos/{filename}", methods=["GET", "HEAD"])
    async def video_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = video_key(name) if filename.endswith(".mp4") and is_video_job_id(name) else None
        return await public_file(request, key)

    @router.api_route("/characters/{filename}", methods=["GET", "HEAD"])
    async def character_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = (
            character_video_key(name)
            if filename.endswith(".mp4") and _CHARACTER_TOKEN.fullmatch(name)
            else None
        )
        return await public_file(request, key)

    return router


async def _found_file(request: Request, container: Container, key: str | None) -> Response | None:
    """The stored file's response, or None when there is no such file (a miss)."""
    if key is None:
        return None
    storage = container.storage
    path = storage.local_path(key)
    if path is not None:  # the hot path on local files: no thread hop, no store round trip
        return _file_response(
            request, _PublicFile(path, **_FILE_OPTIONS, stat_result=os.stat(path))
        )
    found = await asyncio.to_thread(storage.stat, key)
    if found is None:
        return None
    if container.settings.storage_redirect:
        url = await asyncio.to_thread(storage.presigned_url, key)
        if url is not None:
            return RedirectResponse(url, status_code=302, headers=_NO_STORE)
    return _file_response(request, _StoredObjectFile(storage, key, found))


#: One byte-range-spec of a ``bytes=`` range set: ``first-last``, ``first-`` or ``-suffix``.
_BYTE_RANGE = re.compile(r"\s*(?:(\d+)-(\d*)|-(\d+))\s*")
_CACHE_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}
_FILE_OPTIONS: dict[str, Any] = {"media_type": "video/mp4", "headers": _CACHE_FOREVER}
# A presigned URL expires: the redirect to it must not outlive it in any cache.
_NO_STORE = {"Cache-Control": "no-store"}


def _file_response(request: Request, response: _PublicFile) -> Response:
    size = response.headers["content-length"]
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
        elif all(start >= int(size) for start in starts):
            raise RangeNotSatisfiableError(size=int(size))
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


class _StoredObjectFile(_PublicFile):
    """An object of a remote store sent as ``FileResponse`` sends a file: the same headers, HEAD,
    single and multipart ranges and If-Range, with the bytes read from the store instead of a
    local file. ``FileResponse`` reads through ``_open_file`` (``seek`` / ``read``); Starlette is
    pinned, and tests/api/test_static_s3_http.py runs the local file suite against this class."""

    chunk_size = 256 * 1024  # fewer, larger sends: each read may wait on the store anyway

    def __init__(self, storage: MediaStorage, key: str, found: StoredObject) -> None:
        mtime = int(found.last_modified.timestamp())
        # FileResponse wants an os.stat_result for the length; the store's own validators win.
        stat_result = os.stat_result(
            (stat_mode.S_IFREG, 0, 0, 1, 0, 0, found.size, mtime, mtime, mtime)
        )
        super().__init__(
            key,
            media_type="video/mp4",
            headers={
                **_CACHE_FOREVER,
                "etag": found.etag,
                "last-modified": format_datetime(found.last_modified, usegmt=True),
            },
            stat_result=stat_result,
        )
        self.storage, self.key, self.size = storage, key, found.size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = dict(scope.get("extensions", {}))
        extensions.pop("http.response.pathsend", None)  # there is no path to hand the server
        await super().__call__({**scope, "extensions": extensions}, receive, send)

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[Any]:
        reader = _ObjectReader(self.storage, self.key, self.size)
        try:
            yield reader
        finally:
            with anyio.CancelScope(shield=True):  # a client gone mid-stream still frees the GET
                await anyio.to_thread.run_sync(reader.close)


class _ObjectReader:
    """``seek`` and ``read`` over a stored object: one ranged GET from each seek to the end of
    the object, read as the response is sent, closed at the next seek. Reads run on anyio's
    worker threads (as ``FileResponse``'s file reads do), which wait for a read in progress when
    the transfer is cancelled, so the stream is never closed under a running read."""

    def __init__(self, storage: MediaStorage, key: str, size: int) -> None:
        self.storage, self.key, self.size = storage, key, size
        self.position = 0
        self.chunks: Iterator[bytes] | None = None
        self.buffer = memoryview(b"")  # the rest of the last chunk, sliced without copying

    async def seek(self, position: int) -> None:
        await anyio.to_thread.run_sync(self.close)
        self.position = position

    async def read(self, size: int) -> bytes:
        parts: list[bytes] = []
        wanted = min(size, self.size - self.position)
        while wanted > 0:
            if not self.buffer:
                if self.chunks is None:
                    self.chunks = self.storage.read_range(self.key, self.position, self.size - 1)
                self.buffer = memoryview(await anyio.to_thread.run_sync(next, self.chunks, b""))
                if not self.buffer:
                    break  # the object is shorter than it said: FileResponse reports it
            part, self.buffer = self.buffer[:wanted], self.buffer[wanted:]
            parts.append(bytes(part))
            self.position += len(part)
            wanted -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        if self.chunks is not None and hasattr(self.chunks, "close"):
            self.chunks.close()
        self.chunks, self.buffer = None, memoryview(b"")
