"""What every upstream HTTP client reads the same way: retry hints and error messages."""

from __future__ import annotations

import email.utils
import time

import httpx


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """``retry-after-ms`` (OpenAI), ``Retry-After`` seconds or HTTP date;
    None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_message(response: httpx.Response, limit: int) -> str:
    """``error.message`` from an OpenAI-style error body (or a bare ``error`` string, as vLLM and
    llama.cpp send), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, str):
        return message[:limit]
    if isinstance(error, str):
        return error[:limit]
    return response.text[:limit]
