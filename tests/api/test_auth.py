"""Authentication (D3): header parsing, live keys, deactivation, failed-auth throttling per
address."""

from __future__ import annotations

import logging
import time

import pytest
from prometheus_client import REGISTRY

from knightvision.account import admin
from tests.fixtures.harness import API, CLIENT_ADDRESS
from tests.fixtures.partner_api import assert_error, assert_request_id, balance_of, generate, local

MISSING = ("Missing or invalid Authorization header", "missing_auth")
INVALID = ("Invalid API key", "invalid_api_key")
UNKNOWN_KEY = "kv_partner_" + "A" * 43

# {key} is replaced by a live key of the calling partner.
HEADER_CASES = [
    pytest.param(None, MISSING, id="no-header"),
    pytest.param("", MISSING, id="empty-header"),
    pytest.param("Basic dXNlcjpwYXNzd29yZA==", MISSING, id="basic-scheme"),
    pytest.param("Token {key}", MISSING, id="token-scheme-with-live-key"),
    pytest.param("Bearer", MISSING, id="bearer-no-token"),
    pytest.param("Bearer ", MISSING, id="bearer-empty-token"),
    pytest.param("Bearer     ", MISSING, id="bearer-blank-token"),
    pytest.param("{key}", MISSING, id="bare-key-no-scheme"),
    pytest.param("Bearer abc123", INVALID, id="no-prefix"),
    pytest.param("Bearer sk_live_0123456789", INVALID, id="other-vendor-key"),
    pytest.param("Bearer kv_partner_", INVALID, id="prefix-only"),
    pytest.param(f"Bearer {UNKNOWN_KEY}", INVALID, id="unknown-well-formed-key"),
    pytest.param("Bearer {key}x", INVALID, id="live-key-plus-char"),
    pytest.param("Bearer {key_upper}", INVALID, id="live-key-uppercased"),
    pytest.param("Bearer {key_no_prefix}", INVALID, id="live-key-without-prefix"),
]

ENDPOINTS = [
    pytest.param("GET", f"{API}/credits", None, id="credits"),
    pytest.param("POST", f"{API}/generate-video", local(duration=1), id="generate-video"),
    pytest.param(
        "GET", f"{API}/video-status/local_20260323_141500_abc123", None, id="video-status"
    ),
    pytest.param("GET", f"{API}/videos", None, id="videos"),
]


def _render(template: str | None, key: str) -> dict[str, str]:
    if template is None:
        return {}
    value = template.format(
        key=key, key_upper=key.upper(), key_no_prefix=key.removeprefix("kv_partner_")
    )
    return {"Authorization": value}


@pytest.mark.parametrize("template, expected", HEADER_CASES)
async def test_rejected_credentials(harness, template, expected):
    partner = await harness.partner(credits=100)
    response = await harness.client.get(
        f"{API}/credits", headers=_render(template, partner["api_key"])
    )
    assert_error(response, 401, *expected)
    assert (
        "RateLimit-Limit" not in response.headers
    )  # nothing is counted against a key we do not know


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_every_endpoint_requires_auth(harness, method, path, body):
    partner = await harness.partner(credits=100)
    for template, expected in [
        (None, MISSING),
        ("Token {key}", MISSING),
        ("Bearer ", MISSING),
        ("Bearer {key_no_prefix}", INVALID),
        (f"Bearer {UNKNOWN_KEY}", INVALID),
    ]:
        response = await harness.client.request(
            method, path, headers=_render(template, partner["api_key"]), json=body
        )
        assert_error(response, 401, *expected)
    assert await balance_of(harness, partner["account_id"]) == 100


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_scheme_word_is_case_insensitive(harness, scheme):
    partner = await harness.partner(credits=100)
    response = await harness.client.get(
        f"{API}/credits", headers={"Authorization": f"{scheme} {partner['api_key']}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_remaining"] == 100


async def test_issued_key_format(harness):
    partner = await harness.partner(credits=1)
    key = partner["api_key"]
    assert key.startswith("kv_partner_") and len(key) == len("kv_partner_") + 43
    assert set(key.removeprefix("kv_partner_")) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


@pytest.mark.parametrize("auth", [None, f"Bearer {UNKNOWN_KEY}"], ids=["missing", "invalid"])
async def test_auth_is_checked_before_the_body(harness, auth):
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    for body in (b"[]", b"{", b'{"prompt": ""}', b'{"prompt": "x", "model": "sora-2"}'):
        response = await harness.client.post(f"{API}/generate-video", content=body, headers=headers)
        assert response.status_code == 401, body


@pytest.mark.parametrize("path", ["video-status/not-an-id", "videos?limit=abc"])
async def test_auth_is_checked_before_ids_and_queries(harness, path):
    response = await harness.client.get(f"{API}/{path}")
    assert_error(response, 401, *MISSING)


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
async def test_deactivated_key_is_refused_on_the_next_request(harness, method, path, body):
    partner = await harness.partner(credits=100)
    first = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert first.status_code == 200

    await admin.deactivate_key(harness.container.engine, partner["key_prefix"])

    response = await harness.client.request(method, path, headers=partner["headers"], json=body)
    assert_error(response, 403, "API key deactivated", "key_deactivated")
    again = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert_error(again, 403, "API key deactivated", "key_deactivated")


async def test_deactivating_one_key_leaves_the_accounts_other_keys_working(harness):
    partner = await harness.partner(credits=100)
    other = await harness.extra_key(partner["account"])
    await admin.deactivate_key(harness.container.engine, partner["key_prefix"])

    refused = await generate(harness.client, partner["headers"], local(duration=1))
    assert_error(refused, 403, "API key deactivated", "key_deactivated")
    accepted = await generate(harness.client, other, local(duration=1))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["credits_remaining"] == 99  # the deactivated attempt charged nothing


async def test_success_carries_a_request_id(harness):
    partner = await harness.partner(credits=5)
    response = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert response.status_code == 200
    assert_request_id(response)


# Failed-authentication throttling, per client address (ADR 0007) ----------------------------------

DELAY = 0.25  # the tarpit, short for tests; the default is 1 s
UNKNOWN = {"Authorization": f"Bearer {UNKNOWN_KEY}"}


async def throttled_api(make_harness, limit: int = 3):
    """The API with an address over its failed-auth limit: ``limit`` failures, then one more
    answered 429."""
    api = await make_harness(auth_failures_per_minute=limit, throttle_delay_seconds=DELAY)
    for _ in range(limit):
        assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 401
    assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 429
    return api


async def timed(request):
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    "bad_headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Basic Zm9vOmJhcg=="}, id="other-scheme"),
        pytest.param(UNKNOWN, id="unknown-key"),
    ],
)
async def test_failed_auth_past_the_limit_is_a_delayed_429(make_harness, bad_headers):
    api = await make_harness(auth_failures_per_minute=3, throttle_delay_seconds=DELAY)
    for _ in range(3):
        response, took = await timed(api.client.get(f"{API}/credits", headers=bad_headers))
        assert response.status_code == 401 and took < DELAY, took
    for _ in range(2):
        throttled, took = await timed(api.client.get(f"{API}/credits", headers=bad_headers))
        body = assert_error(throttled, 429, "Rate limit exceeded", "rate_limited")
        assert took >= DELAY, took  # the tarpit: a verdict at most every DELAY per connection
        assert 10 <= body["retry_after"] <= 60
        assert throttled.headers["Retry-After"] == str(body["retry_after"])
        assert "RateLimit-Limit" not in throttled.headers  # no key was judged

    # Another address is not affected.
    elsewhere = api.client_from("198.51.100.20")
    assert (await elsewhere.get(f"{API}/credits", headers=bad_headers)).status_code == 401


async def test_a_valid_key_from_a_throttled_address_is_served(make_harness):
    """A live key is judged by its own limits only: at once, with its rate headers, however many
    failures its address has made (the throttle used to refuse it for up to 60 s)."""
    api = await throttled_api(make_harness)
    partner = await api.partner(credits=10)
    for n in range(5):
        response, took = await timed(api.client.get(f"{API}/credits", headers=partner["headers"]))
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Remaining"] == str(29 - n)
        assert took < DELAY, took
    submitted = await generate(api.client, partner["headers"], local(duration=1))
    assert submitted.status_code == 200, submitted.text
    # ... and the address's failures are still throttled.
    assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 429


async def test_a_valid_key_past_its_own_limit_gets_its_own_429(make_harness):
    api = await throttled_api(make_harness)
    partner = await api.partner(credits=10)
    await admin.key_limits(api.container.engine, partner["key_prefix"], {"credits": 2})
    statuses = [
        (await api.client.get(f"{API}/credits", headers=partner["headers"])).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = await api.client.get(f"{API}/credits", headers=partner["headers"])
    assert limited.headers["RateLimit-Limit"] == "2"  # the key's limit refused it, no delay


async def test_a_deactivated_key_always_gets_its_403(make_harness):
    """A deactivated key is a real key, not a guess: its retries are never counted as failures
    and never turn into 429, from a throttled address or not."""
    api = await make_harness(auth_failures_per_minute=3, throttle_delay_seconds=DELAY)
    partner = await api.partner(credits=10)
    await admin.deactivate_key(api.container.engine, partner["key_prefix"])
    for _ in range(20):
        refused = await api.client.get(f"{API}/credits", headers=partner["headers"])
        assert_error(refused, 403, "API key deactivated", "key_deactivated")
    # None of those counted: the address still has its three failures.
    for _ in range(3):
        assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 401
    assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 429
    for _ in range(5):
        refused = await api.client.get(f"{API}/videos", headers=partner["headers"])
        assert_error(refused, 403, "API key deactivated", "key_deactivated")


async def test_failure_kinds_share_one_address_budget(make_harness):
    api = await make_harness(auth_failures_per_minute=3, throttle_delay_seconds=DELAY)
    assert (await api.client.get(f"{API}/credits")).status_code == 401
    assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 401
    assert (
        await api.client.get(f"{API}/videos", headers={"Authorization": "Token x"})
    ).status_code == 401
    throttled = await api.client.get(f"{API}/videos", headers={"Authorization": "Bearer nope"})
    assert_error(throttled, 429, "Rate limit exceeded", "rate_limited")


async def test_successful_auth_does_not_count_as_a_failure(make_harness):
    api = await make_harness(auth_failures_per_minute=3)
    partner = await api.partner(credits=10)
    for _ in range(2):
        assert (await api.client.get(f"{API}/credits")).status_code == 401
    for _ in range(10):
        assert (
            await api.client.get(f"{API}/credits", headers=partner["headers"])
        ).status_code == 200
    assert (
        await api.client.get(f"{API}/credits")
    ).status_code == 401  # the 3rd failure, still allowed


async def test_a_throttled_address_is_named_once_in_the_log_and_counted(make_harness, caplog):
    caplog.set_level(logging.WARNING, "knightvision.throttle")
    before = _refused_failures()
    api = await throttled_api(make_harness)
    for _ in range(3):
        assert (await api.client.get(f"{API}/credits", headers=UNKNOWN)).status_code == 429
    named = [r for r in caplog.records if CLIENT_ADDRESS in r.getMessage()]
    assert len(named) == 1, [r.getMessage() for r in named]
    assert named[0].levelno == logging.WARNING
    assert "throttled" in named[0].getMessage() and "failed authentications" in (
        named[0].getMessage()
    )
    assert _refused_failures() - before == 4  # the 429s by reason, on /metrics

    caplog.clear()
    elsewhere = api.client_from("198.51.100.22")
    for _ in range(5):
        await elsewhere.get(f"{API}/credits")
    assert [r for r in caplog.records if "198.51.100.22" in r.getMessage()]  # its own line


def _refused_failures() -> float:
    sample = REGISTRY.get_sample_value(
        "knightvision_rate_limited_total", {"reason": "auth_failures"}
    )
    return sample or 0.0
