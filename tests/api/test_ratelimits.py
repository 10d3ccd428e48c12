"""Rate limits (D5): per key and endpoint, exact moving window, headers, per-key overrides."""

from __future__ import annotations

import pytest

from knightvision.account import admin
from tests.fixtures.harness import API
from tests.fixtures.partner_api import (
    RATE_HEADERS,
    assert_error,
    balance_of,
    generate,
    local,
    video_count,
)

UNKNOWN_JOB = "local_20260323_141500_abc123"

# (endpoint name, method, path, body, documented per-minute limit)
ENDPOINTS = [
    pytest.param("credits", "GET", f"{API}/credits", None, 30, id="credits"),
    pytest.param(
        "generate_video", "POST", f"{API}/generate-video", {"prompt": ""}, 5, id="generate-video"
    ),
    pytest.param(
        "video_status", "GET", f"{API}/video-status/{UNKNOWN_JOB}", None, 60, id="video-status"
    ),
    pytest.param("videos", "GET", f"{API}/videos", None, 20, id="videos"),
]


def assert_rate_headers(response, limit: int, remaining: int | None = None) -> None:
    for name in RATE_HEADERS:
        assert name in response.headers, (name, dict(response.headers))
    assert int(response.headers["RateLimit-Limit"]) == limit
    if remaining is not None:
        assert int(response.headers["RateLimit-Remaining"]) == remaining
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60


def assert_limited(response, limit: int) -> None:
    body = assert_error(response, 429, "Rate limit exceeded", "rate_limited")
    assert isinstance(body["retry_after"], int) and 10 <= body["retry_after"] <= 60
    assert response.headers["Retry-After"] == str(body["retry_after"])
    assert_rate_headers(response, limit, remaining=0)


@pytest.mark.parametrize("name, method, path, body, limit", ENDPOINTS)
async def test_documented_limit_per_endpoint(harness, name, method, path, body, limit):
    partner = await harness.partner(credits=100)
    for n in range(limit):
        response = await harness.client.request(method, path, headers=partner["headers"], json=body)
        assert response.status_code != 429, (n, response.text)
        assert_rate_headers(response, limit, remaining=limit - n - 1)
    assert_limited(
        await harness.client.request(method, path, headers=partner["headers"], json=body), limit
    )
    assert_limited(
        await harness.client.request(method, path, headers=partner["headers"], json=body), limit
    )


async def test_sixth_generate_video_is_refused_and_not_charged(harness):
    partner = await harness.partner(credits=100)
    for n in range(5):
        response = await generate(harness.client, partner["headers"], local(duration=1))
        assert response.status_code == 200, response.text
        assert_rate_headers(response, 5, remaining=4 - n)
    refused = await generate(harness.client, partner["headers"], local(duration=1))
    assert_limited(refused, 5)
    assert await balance_of(harness, partner["account_id"]) == 95
    assert await video_count(harness, partner["headers"]) == 5


# Every response of a limited endpoint after auth carries the headers, errors included.
HEADERED_ERRORS = [
    pytest.param("POST", "generate-video", b"[]", 400, 5, id="invalid-json"),
    pytest.param("POST", "generate-video", {"prompt": " "}, 400, 5, id="missing-prompt"),
    pytest.param("POST", "generate-video", local(duration=60), 402, 5, id="insufficient"),
    pytest.param(
        "POST", "generate-video", {"prompt": "x", "model": "sora-2"}, 500, 5, id="unavailable"
    ),
    pytest.param("GET", "video-status/bad", None, 400, 60, id="invalid-job-id"),
    pytest.param("GET", f"video-status/{UNKNOWN_JOB}", None, 404, 60, id="job-not-found"),
    pytest.param("GET", "videos?limit=x", None, 400, 20, id="invalid-limit"),
]


@pytest.mark.parametrize("method, path, body, status, limit", HEADERED_ERRORS)
async def test_errors_after_auth_carry_rate_headers(harness, method, path, body, status, limit):
    partner = await harness.partner(credits=1)
    kwargs = (
        {"content": body, "headers": {**partner["headers"], "Content-Type": "application/json"}}
        if isinstance(body, bytes)
        else {"json": body, "headers": partner["headers"]}
    )
    response = await harness.client.request(method, f"{API}/{path}", **kwargs)
    assert response.status_code == status, response.text
    assert_rate_headers(response, limit, remaining=limit - 1)


@pytest.mark.parametrize(
    "invalid",
    [
        pytest.param({"prompt": ""}, id="missing-prompt"),
        pytest.param(
            {"prompt": "x", "model": "local-storyboard", "duration": 0}, id="invalid-duration"
        ),
        pytest.param({"prompt": "x", "model": "sora-2"}, id="unavailable"),
        pytest.param(
            {"prompt": "x", "model": "local-storyboard", "duration": 60}, id="insufficient"
        ),
    ],
)
async def test_refused_requests_count_toward_the_limit(harness, invalid):
    partner = await harness.partner(credits=50)
    for _ in range(5):
        response = await generate(harness.client, partner["headers"], invalid)
        assert response.status_code in (400, 402, 500), response.text
    valid = await generate(harness.client, partner["headers"], local(duration=1))
    assert_limited(valid, 5)
    assert await balance_of(harness, partner["account_id"]) == 50
    assert await video_count(harness, partner["headers"]) == 0


async def test_rate_limit_comes_before_validation(harness):
    partner = await harness.partner(credits=50)
    for _ in range(5):
        await generate(harness.client, partner["headers"], {"prompt": ""})
    for body in ({"prompt": ""}, local(duration=99), {"prompt": "x", "model": "sora-2"}):
        assert_limited(await generate(harness.client, partner["headers"], body), 5)
    raw = await harness.client.post(
        f"{API}/generate-video", content=b"nope", headers=partner["headers"]
    )
    assert_limited(raw, 5)


async def test_keys_of_one_account_have_separate_buckets(harness):
    partner = await harness.partner(credits=100)
    second = await harness.extra_key(partner["account"])
    for _ in range(5):
        assert (
            await generate(harness.client, partner["headers"], local(duration=1))
        ).status_code == 200
    assert_limited(await generate(harness.client, partner["headers"], local(duration=1)), 5)
    for n in range(5):
        response = await generate(harness.client, second, local(duration=1))
        assert response.status_code == 200, response.text
        assert_rate_headers(response, 5, remaining=4 - n)
    assert_limited(await generate(harness.client, second, local(duration=1)), 5)
    assert await balance_of(harness, partner["account_id"]) == 90


async def test_accounts_have_separate_buckets(harness):
    first = await harness.partner(credits=100)
    second = await harness.partner(credits=100)
    for _ in range(6):
        await generate(harness.client, first["headers"], {"prompt": ""})
    assert (await generate(harness.client, second["headers"], local(duration=1))).status_code == 200


async def test_other_endpoints_are_unaffected(harness):
    partner = await harness.partner(credits=100)
    for _ in range(6):
        await generate(harness.client, partner["headers"], {"prompt": ""})
    assert_limited(await generate(harness.client, partner["headers"], local(duration=1)), 5)
    credits = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert credits.status_code == 200
    assert_rate_headers(credits, 30, remaining=29)
    videos = await harness.client.get(f"{API}/videos", headers=partner["headers"])
    assert videos.status_code == 200
    assert_rate_headers(videos, 20, remaining=19)
    status = await harness.client.get(
        f"{API}/video-status/{UNKNOWN_JOB}", headers=partner["headers"]
    )
    assert status.status_code == 404
    assert_rate_headers(status, 60, remaining=59)


async def test_healthz_and_unauthenticated_responses_have_no_rate_headers(harness):
    for response in (
        await harness.client.get("/healthz"),
        await harness.client.get(f"{API}/credits"),
        await harness.client.get(f"{API}/nope"),
    ):
        assert "RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("override", [1, 2, 8])
async def test_per_key_override_applies_at_once(harness, override):
    partner = await harness.partner(credits=100)
    other_key = await harness.extra_key(partner["account"])
    first = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert_rate_headers(first, 30, remaining=29)

    await admin.key_limits(
        harness.container.engine, partner["key_prefix"], {"generate_video": override}
    )

    for n in range(override):
        response = await generate(harness.client, partner["headers"], local(duration=1))
        assert response.status_code == 200, response.text
        assert_rate_headers(response, override, remaining=override - n - 1)
    assert_limited(await generate(harness.client, partner["headers"], local(duration=1)), override)
    # Only that key and only that endpoint.
    assert (await generate(harness.client, other_key, local(duration=1))).status_code == 200
    assert_rate_headers(
        await harness.client.get(f"{API}/credits", headers=partner["headers"]), 30, remaining=28
    )


async def test_lowering_a_limit_counts_requests_already_made(harness):
    """The window is a log of hits: a new, lower limit applies to the hits already in it (D5)."""
    partner = await harness.partner(credits=100)
    for _ in range(3):
        assert (
            await generate(harness.client, partner["headers"], local(duration=1))
        ).status_code == 200
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"generate_video": 2})
    assert_limited(await generate(harness.client, partner["headers"], local(duration=1)), 2)
    assert await balance_of(harness, partner["account_id"]) == 97


async def test_raising_a_limit_counts_requests_already_made(harness):
    partner = await harness.partner(credits=100)
    for _ in range(6):
        await generate(harness.client, partner["headers"], {"prompt": ""})
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"generate_video": 7})
    # Five hits are in the window (the refused 6th was not one), so two more fit under 7.
    for remaining in (1, 0):
        response = await generate(harness.client, partner["headers"], local(duration=1))
        assert response.status_code == 200, response.text
        assert_rate_headers(response, 7, remaining=remaining)
    assert_limited(await generate(harness.client, partner["headers"], local(duration=1)), 7)


async def test_operator_default_limits(make_harness):
    api = await make_harness(rate_limits={"generate_video": 2})
    partner = await api.partner(credits=100)
    for _ in range(2):
        assert (
            await generate(api.client, partner["headers"], local(duration=1))
        ).status_code == 200
    assert_limited(await generate(api.client, partner["headers"], local(duration=1)), 2)
