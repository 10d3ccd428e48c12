"""Retry hints and error messages as every upstream client reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from knightvision.kit.http import error_message, retry_after_seconds


def test_retry_after_forms() -> None:
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500", "Retry-After": "7"})) == 1.5
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_seconds(httpx.Headers({"Retry-After": future})) or 0) <= 31
    assert (
        retry_after_seconds(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    )
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


def test_error_message_shapes() -> None:
    def reply(**kwargs) -> httpx.Response:
        return httpx.Response(400, **kwargs)

    assert (
        error_message(reply(json={"error": {"message": "bad prompt", "type": "x"}}), 100)
        == "bad prompt"
    )
    assert error_message(reply(json={"error": "model not loaded"}), 100) == "model not loaded"
    assert error_message(reply(text="plain failure text"), 5) == "plain"
    assert error_message(reply(json={"detail": "nope"}), 100) == '{"detail":"nope"}'
    assert error_message(reply(content=b""), 100) == "Bad Request"
