"""Assertions and helpers shared by the contract tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

from knightvision.credit import ledger
from tests.conftest import API

REQUEST_ID = re.compile(r"[0-9a-f]{12}")
WIRE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
LOCAL_JOB_ID = re.compile(r"local_\d{8}_\d{6}_[a-z0-9]{6}")
RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

# Fields an error body may carry (D6); anything else would be an internal detail leaking out.
ERROR_FIELDS = {
    "error",
    "code",
    "request_id",
    "credits_remaining",
    "credits_required",
    "retry_after",
}
LEAK_MARKERS = ("Traceback", 'File "', "sqlalchemy", "Exception", "knightvision.")


def local(
    prompt: str = "A person walking through a futuristic city", **fields: Any
) -> dict[str, Any]:
    """A generate-video body on the always-available offline model."""
    return {"prompt": prompt, "model": "local-storyboard", **fields}


def assert_request_id(response: httpx.Response) -> str:
    body = response.json()
    assert REQUEST_ID.fullmatch(body["request_id"]), body
    assert response.headers.get("Request-Id") == body["request_id"]
    return body["request_id"]


def assert_error(response: httpx.Response, status: int, error: str, code: str) -> dict[str, Any]:
    """The documented error shape (D6, D7): status, exact message, stable code, request id in body and header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error, body
    assert body["code"] == code, body
    assert_request_id(response)
    assert set(body) <= ERROR_FIELDS, body
    for marker in LEAK_MARKERS:
        assert marker not in response.text, response.text
    if status == 402:
        assert isinstance(body["credits_remaining"], int) and isinstance(
            body["credits_required"], int
        ), body
    return body


def assert_no_nulls(value: Any) -> None:
    """Fields that do not apply are absent, not null (D13)."""
    if isinstance(value, dict):
        for name, item in value.items():
            assert item is not None, f"{name} is null"
            assert_no_nulls(item)
    elif isinstance(value, list):
        for item in value:
            assert_no_nulls(item)


async def generate(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.post(f"{API}/generate-video", headers=headers, json=body)


async def balance_of(harness: Any, account_id: int) -> int:
    async with harness.container.engine.connect() as conn:
        return await ledger.balance(conn, account_id)


async def ledger_total(harness: Any, account_id: int) -> int:
    async with harness.container.engine.connect() as conn:
        return await ledger.ledger_sum(conn, account_id)


async def video_count(harness: Any, headers: dict[str, str]) -> int:
    response = await harness.client.get(f"{API}/videos", params={"limit": 50}, headers=headers)
    assert response.status_code == 200, response.text
    return len(response.json()["videos"])
