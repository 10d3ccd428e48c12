"""JSON responses that always carry the request id (D7) and any rate-limit headers (D5)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


def request_id_of(request: Request) -> str:
    return request.scope["state"]["request_id"]


def json_response(request: Request, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    payload = {"request_id": request_id_of(request), **body}
    merged = {**request.scope["state"].get("rate_headers", {}), **(headers or {})}
    return Response(orjson.dumps(payload), status_code=status, headers=merged, media_type="application/json")
