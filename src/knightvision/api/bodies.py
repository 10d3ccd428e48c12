"""Reading request bodies and query values the way the contract says (D4a)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request

from knightvision.errors import InvalidJSONError, InvalidLimitError

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")  # ASCII digits only: \d would accept "１０"


async def json_object(
    request: Request, *, empty_means: dict[str, Any] | None = None
) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and empty_means is not None:
        return dict(empty_means)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJSONError() from None
    if not isinstance(data, dict):
        raise InvalidJSONError()
    return data


def list_limit(request: Request, *, default: int = 20, maximum: int = 50) -> int:
    """``?limit=N``: clamped to 1..maximum; anything but an integer is 400 ``Invalid limit``."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw.strip()):
        raise InvalidLimitError()
    return min(maximum, max(1, int(raw)))
