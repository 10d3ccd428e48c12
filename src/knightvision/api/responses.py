"""JSON responses that always carry the request id (D7) and any rate-limit headers (D5)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from knightvision.api.middleware import REQUEST_ID_HEADER

RawHeaders = list[tuple[bytes, bytes]]


class JSONBytesResponse(Response):
    """A body already serialised by orjson, with headers already encoded: Starlette's header
    normalisation (a hot-path cost, ADR 0003) has nothing left to do."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int, headers: RawHeaders) -> None:
        self.body = body
        self.status_code = status_code
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *headers,
        ]


def json_response(
    request: Request, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    state = request.scope["state"]
    request_id = state["request_id"]
    raw: RawHeaders = [*state.get("rate_headers", ()), (REQUEST_ID_HEADER, request_id.encode())]
    if headers:
        extra = {
            name.lower().encode("latin-1"): value.encode("latin-1")
            for name, value in headers.items()
        }
        raw = [(name, value) for name, value in raw if name not in extra] + list(extra.items())
    return JSONBytesResponse(orjson.dumps({"request_id": request_id, **body}), status, raw)
