"""Reading request bodies and query values the way the contract says (D4a)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request

from knightvision.errors import InvalidCursorError, InvalidJSONError, InvalidLimitError
from knightvision.kit.charclasses import control_character

_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: \d would accept "１０"
#: Digits beyond these say nothing more about a clamped limit (and are never converted).
_LIMIT_DIGITS = 6

# Integers from this one up arrive from orjson as floats, and so are refused as integers (D4a).
JSON_INTEGER_LIMIT = 2**64

# ``?limit=N`` on the lists (D4a): any integer, clamped to MIN_LIMIT..MAX_LIMIT.
MIN_LIMIT = 1
MAX_LIMIT = 50
VIDEOS_DEFAULT_LIMIT = 20
CHARACTERS_DEFAULT_LIMIT = 50  # a partner's characters usually fit one page


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


def list_limit(
    request: Request, *, default: int = VIDEOS_DEFAULT_LIMIT, maximum: int = MAX_LIMIT
) -> int:
    """``?limit=N``: clamped to 1..maximum; anything but an integer is 400 ``Invalid limit``."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidLimitError(param="limit", minimum=MIN_LIMIT, maximum=maximum)
    if len(text.lstrip("+-").lstrip("0")) > _LIMIT_DIGITS:  # a huge integer is still an integer
        return MIN_LIMIT if text.startswith("-") else maximum
    return min(maximum, max(MIN_LIMIT, int(text)))


#: Longer than any id we hand out: a cursor this long names nothing.
_MAX_CURSOR_CHARS = 64


def list_cursor(request: Request) -> str | None:
    """``?starting_after=<id>``: the last item of the previous page, None for the first page."""
    raw = request.query_params.get("starting_after")
    if raw is None or raw == "":
        return None
    if len(raw) > _MAX_CURSOR_CHARS or control_character(raw) is not None:
        raise InvalidCursorError()
    return raw
