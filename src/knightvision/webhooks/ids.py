"""Public ids of webhook endpoints and events: a prefix and 24 random letters and digits."""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
ENDPOINT_ID_PATTERN = r"we_[A-Za-z0-9]{24}"
EVENT_ID_PATTERN = r"evt_[A-Za-z0-9]{24}"
_ENDPOINT_ID = re.compile(ENDPOINT_ID_PATTERN)
_EVENT_ID = re.compile(EVENT_ID_PATTERN)


def _random(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def new_endpoint_id() -> str:
    return _random("we_")


def new_event_id() -> str:
    """Also the message's ``webhook-id``: the same for every attempt and redelivery."""
    return _random("evt_")


def is_endpoint_id(value: str) -> bool:
    return _ENDPOINT_ID.fullmatch(value) is not None


def is_event_id(value: str) -> bool:
    return _EVENT_ID.fullmatch(value) is not None
