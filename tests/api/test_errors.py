"""The error catalogue's shape (D6), request ids (D7), unknown routes, 405, 413, static misses
and their throttle, healthz."""

from __future__ import annotations

import time

import pytest

from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error, assert_request_id, local

JSON = {"Content-Type": "application/json"}
MAX_BODY = 64 * 1024

# (method, path, body builder, status, error, code); the body is sent as raw bytes when it is bytes.
ERROR_CASES = [
    pytest.param(
        "POST",
        "generate-video",
        b"[]",
        400,
        "Request body must be JSON",
        "invalid_json",
        id="invalid-json",
    ),
    pytest.param(
        "POST",
        "generate-video",
        {"model": "local-storyboard"},
        400,
        "Please provide a prompt",
        "missing_prompt",
        id="missing-prompt",
    ),
    pytest.param(
        "POST",
        "generate-video",
        local("x" * 2001),
        400,
        "Prompt must be 2000 characters or less",
        "prompt_too_long",
        id="prompt-too-long",
    ),
    pytest.param(
        "POST",
        "generate-video",
        local(model="veo-9"),
        400,
        "Invalid model",
        "invalid_model",
        id="invalid-model",
    ),
    pytest.param(
        "POST",
        "generate-video",
        local(duration=0),
        400,
        "Invalid duration",
        "invalid_duration",
        id="invalid-duration",
    ),
    pytest.param(
        "POST",
        "generate-video",
        local(aspect_ratio="4:3"),
        400,
        "Invalid aspect_ratio",
        "invalid_aspect_ratio",
        id="invalid-aspect",
    ),
    pytest.param(
        "POST",
        "generate-video",
        local(resolution="4k"),
        400,
        "Invalid resolution",
        "invalid_resolution",
        id="invalid-resolution",
    ),
    pytest.param(
        "GET",
        "video-status/nope",
        None,
        400,
        "Invalid job ID",
        "invalid_job_id",
        id="invalid-job-id",
    ),
    pytest.param(
        "GET", "videos?limit=abc", None, 400, "Invalid limit", "invalid_limit", id="invalid-limit"
    ),
    pytest.param(
        "POST",
        "generate-video",
        local(duration=60),
        402,
        "Insufficient credits",
        "insufficient_credits",
        id="insufficient",
    ),
    pytest.param(
        "GET",
        "video-status/local_20260323_141500_abc123",
        None,
        404,
        "Job not found",
        "job_not_found",
        id="job-not-found",
    ),
    pytest.param("GET", "nope", None, 404, "Not found", "not_found", id="unknown-route"),
    pytest.param(
        "DELETE",
        "credits",
        None,
        405,
        "Method not allowed",
        "method_not_allowed",
        id="wrong-method",
    ),
    pytest.param(
        "POST",
        "generate-video",
        {"prompt": "x", "model": "sora-2"},
        500,
        "Video generation not available",
        "generation_unavailable",
        id="unavailable",
    ),
]


@pytest.mark.parametrize("method, path, body, status, error, code", ERROR_CASES)
async def test_every_error_has_the_documented_shape(
    harness, method, path, body, status, error, code
):
    partner = await harness.partner(credits=5)
    kwargs = (
        {"content": body, "headers": {**partner["headers"], **JSON}}
        if isinstance(body, bytes)
        else {"json": body, "headers": partner["headers"]}
    )
    response = await harness.client.request(method, f"{API}/{path}", **kwargs)
    body = assert_error(response, status, error, code)
    if status == 402:
        assert body["credits_remaining"] == 5 and body["credits_required"] == 60


async def test_request_ids_are_unique(harness):
    partner = await harness.partner(credits=5)
    seen = set()
    for path in ["credits", "credits", "videos", "nope", "video-status/x"]:
        response = await harness.client.get(f"{API}/{path}", headers=partner["headers"])
        seen.add(assert_request_id(response))
    assert len(seen) == 5


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        "/api",
        "/api/v1/partner",
        f"{API}/nope",
        f"{API}/video-status",
        f"{API}/video-status/",
        f"{API}/video-status/a/b",
        "/api/v2/partner/credits",
        "/api/v1/partner/Credits",
        "/static/nope.mp4",
    ],
)
async def test_unknown_routes_are_json_404(harness, path):
    partner = await harness.partner(credits=1)
    for headers in ({}, partner["headers"]):
        response = await harness.client.get(path, headers=headers)
        assert_error(response, 404, "Not found", "not_found")


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "credits"),
        ("DELETE", "credits"),
        ("GET", "generate-video"),
        ("PUT", "generate-video"),
        ("POST", "video-status/local_20260323_141500_abc123"),
        ("DELETE", "video-status/local_20260323_141500_abc123"),
        ("POST", "videos"),
        ("PATCH", "videos"),
    ],
)
async def test_wrong_method_is_json_405(harness, method, path):
    partner = await harness.partner(credits=1)
    response = await harness.client.request(method, f"{API}/{path}", headers=partner["headers"])
    assert_error(response, 405, "Method not allowed", "method_not_allowed")


async def test_healthz(harness):
    response = await harness.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert_request_id(response)


# Body size ---------------------------------------------------------------------------------------


def _padded_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes whose prompt is too long (so an accepted size is a
    400)."""
    skeleton = b'{"model": "local-storyboard", "prompt": ""}'
    return skeleton[:-2] + b"x" * (size - len(skeleton)) + b'"}'


@pytest.mark.parametrize("size, status", [(MAX_BODY, 400), (MAX_BODY + 1, 413), (1024 * 1024, 413)])
async def test_body_size_limit(harness, size, status):
    partner = await harness.partner(credits=5)
    body = _padded_body(size)
    assert len(body) == size
    response = await harness.client.post(
        f"{API}/generate-video", content=body, headers={**partner["headers"], **JSON}
    )
    if status == 413:
        assert_error(response, 413, "Request body too large", "body_too_large")
    else:
        assert_error(response, 400, "Prompt must be 2000 characters or less", "prompt_too_long")


async def test_oversized_body_is_refused_even_without_auth(harness):
    response = await harness.client.post(
        f"{API}/generate-video", content=_padded_body(MAX_BODY + 1), headers=JSON
    )
    assert_error(response, 413, "Request body too large", "body_too_large")


async def test_oversized_chunked_body_is_refused(harness):
    partner = await harness.partner(credits=5)

    async def chunks():
        for _ in range(20):
            yield b" " * 8192

    response = await harness.client.post(
        f"{API}/generate-video", content=chunks(), headers={**partner["headers"], **JSON}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "Request body too large", "body_too_large")
    assert (await harness.client.get(f"{API}/credits", headers=partner["headers"])).json()[
        "credits_remaining"
    ] == 5


# Static video misses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "local_20260323_141500_abc123.mp4",
        "sora_20260323_141500_abc123.mp4",
        "20260323_141500_abc123.mp4",
        "local_20260323_141500_abc123",
        "local_20260323_141500_abc123.mov",
        "LOCAL_20260323_141500_ABC123.mp4",
        "nope.mp4",
        "..%2F..%2Fknightvision.db",
        "..%2Fknightvision.toml",
    ],
)
async def test_static_video_miss_is_json_404(harness, name):
    response = await harness.client.get(f"/static/videos/{name}")
    assert_error(response, 404, "Not found", "not_found")


THROTTLE_DELAY = 0.25  # the tarpit, short for tests; the default is 1 s


async def test_static_video_misses_past_the_limit_are_a_delayed_429(make_harness):
    api = await make_harness(static_misses_per_minute=3, throttle_delay_seconds=THROTTLE_DELAY)
    for _ in range(3):
        name = new_job_id(utcnow(), "local")
        assert (await api.client.get(f"/static/videos/{name}.mp4")).status_code == 404
    for path in (f"/static/videos/{new_job_id(utcnow(), 'local')}.mp4", "/static/videos/x.mov"):
        started = time.monotonic()
        throttled = await api.client.get(path)
        assert time.monotonic() - started >= THROTTLE_DELAY  # the tarpit
        body = assert_error(throttled, 429, "Rate limit exceeded", "rate_limited")
        assert body["retry_after"] >= 10
        assert throttled.headers["Retry-After"] == str(body["retry_after"])
    elsewhere = api.client_from("198.51.100.30")
    assert (await elsewhere.get("/static/videos/nope.mp4")).status_code == 404


async def test_existing_files_are_served_to_a_throttled_address(make_harness, tmp_path):
    """A stored video or character video is public at its permanent URL, whatever its address
    missed before (the throttle used to refuse them too): lookups come first, only misses are
    throttled."""
    api = await make_harness(static_misses_per_minute=2, throttle_delay_seconds=THROTTLE_DELAY)
    job_id = new_job_id(utcnow(), "local")
    token = "0123456789abcdef01234567"
    source = tmp_path / "seed.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    api.container.storage.put_file(f"videos/{job_id}.mp4", source)
    api.container.storage.put_file(f"characters/{token}.mp4", source)

    for _ in range(3):
        await api.client.get(f"/static/videos/{new_job_id(utcnow(), 'local')}.mp4")
    assert (
        await api.client.get("/static/characters/abcdefabcdefabcdefabcdef.mp4")
    ).status_code == (429)
    for path in (f"/static/videos/{job_id}.mp4", f"/static/characters/{token}.mp4"):
        started = time.monotonic()
        served = await api.client.get(path)
        assert time.monotonic() - started < THROTTLE_DELAY
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "video/mp4"
        assert served.content == source.read_bytes()
        ranged = await api.client.get(path, headers={"Range": "bytes=0-3"})
        assert ranged.status_code == 206 and ranged.content == source.read_bytes()[:4]
        assert (await api.client.head(path)).status_code == 200
    # ... and its misses are still throttled.
    missed = await api.client.get(f"/static/videos/{new_job_id(utcnow(), 'local')}.mp4")
    assert_error(missed, 429, "Rate limit exceeded", "rate_limited")


async def test_a_405_allows_every_method_served_at_that_path(harness):
    partner = await harness.partner(credits=1)
    for method in ("DELETE", "PUT", "OPTIONS"):
        response = await harness.client.request(
            method, f"{API}/characters", headers=partner["headers"]
        )
        assert_error(response, 405, "Method not allowed", "method_not_allowed")
        assert response.headers["Allow"] == "GET, POST"
    status = await harness.client.post(
        f"{API}/video-status/local_20260323_141500_abc123", headers=partner["headers"]
    )
    assert status.headers["Allow"] == "GET"
