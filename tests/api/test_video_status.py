"""GET /video-status/<job_id>: the queued view, id formats (D9), ownership."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fixtures.harness import API
from tests.fixtures.partner_api import (
    WIRE_TIME,
    assert_error,
    assert_no_nulls,
    assert_request_id,
    generate,
    local,
)

INVALID_IDS = [
    "20260323_141500_abc123",  # an analysis id: /video-status takes video ids only
    "LOCAL_20260323_141500_abc123",
    "local_20260323_141500_ABC123",
    "Sora_20260323_141500_abc123",
    "veo_20260323_141500_abc123",
    "video_20260323_141500_abc123",
    "local20260323_141500_abc123",
    "local_2026032_141500_abc123",
    "local_20260323_14150_abc123",
    "local_20260323_141500_abc12",
    "local_20260323_141500_abc1234",
    "local_20260323_141500_abc-12",
    "local_20260323-141500_abc123",
    "local_20260323_141500_abc123.mp4",
    "local_20260323_141500_abc123%20",
    "%20local_20260323_141500_abc123",
    "local_20260323_141500_abc12%21",
    "local_%E4%B8%AD0260323_141500_abc123",
    "sora_kling_20260323_141500_abc123",
    "abc",
    "1",
    "null",
    "local_２０２６０３２３_141500_abc123",  # Unicode digits are not the format
    "local_20260323_141500_abc１２３",
]

WELL_FORMED_UNKNOWN = [
    "local_20260323_141500_abc123",
    "sora_20260323_141500_abc123",
    "kling_20260323_141500_abc123",
    "local_99991231_235959_zzzzzz",
    "local_00000000_000000_000000",
]


async def _submit(harness, headers, **fields):
    response = await generate(harness.client, headers, local(**{"duration": 3, **fields}))
    assert response.status_code == 200, response.text
    return response.json()


async def test_queued_job_view(harness):
    partner = await harness.partner(credits=100)
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    submitted = await _submit(
        harness, partner["headers"], duration=4, aspect_ratio="16:9", resolution="1080p"
    )

    response = await harness.client.get(
        f"{API}/video-status/{submitted['job_id']}", headers=partner["headers"]
    )
    assert response.status_code == 200, response.text
    assert_request_id(response)
    body = response.json()
    assert body["job_id"] == submitted["job_id"]
    assert body["status"] == "queued"
    assert body["credits_used"] == 4
    assert body["duration"] == 4
    assert body["model"] == "local-storyboard"
    assert body["aspect_ratio"] == "16:9"
    assert body["resolution"] == "1080p"
    assert WIRE_TIME.fullmatch(body["created_at"]), body
    created = datetime.strptime(body["created_at"], "%Y-%m-%d %H:%M:%S")
    assert 0 <= (created - before).total_seconds() < 5  # UTC (D8)
    assert body["created_at"][:10].replace("-", "") == body["job_id"][6:14]
    for absent in ("video_url", "result", "error", "error_code", "finished_at"):
        assert absent not in body, body
    assert_no_nulls(body)


@pytest.mark.parametrize("job_id", INVALID_IDS)
async def test_malformed_id_is_invalid(harness, job_id):
    partner = await harness.partner(credits=1)
    response = await harness.client.get(f"{API}/video-status/{job_id}", headers=partner["headers"])
    assert_error(response, 400, "Invalid job ID", "invalid_job_id")


@pytest.mark.parametrize("job_id", WELL_FORMED_UNKNOWN)
async def test_well_formed_unknown_id_is_not_found(harness, job_id):
    partner = await harness.partner(credits=1)
    response = await harness.client.get(f"{API}/video-status/{job_id}", headers=partner["headers"])
    assert_error(response, 404, "Job not found", "job_not_found")


def _comparable(response):
    body = response.json()
    body.pop("request_id")
    return (
        response.status_code,
        body,
        sorted(
            k
            for k in response.headers
            if k.lower() not in {"request-id", "ratelimit-reset", "ratelimit-remaining"}
        ),
    )


async def test_another_accounts_job_is_indistinguishable_from_a_missing_one(harness):
    owner = await harness.partner(credits=100)
    stranger = await harness.partner(credits=100)
    job_id = (await _submit(harness, owner["headers"]))["job_id"]
    missing_id = job_id[:-6] + ("zzzzzz" if not job_id.endswith("zzzzzz") else "yyyyyy")

    foreign = await harness.client.get(f"{API}/video-status/{job_id}", headers=stranger["headers"])
    missing = await harness.client.get(
        f"{API}/video-status/{missing_id}", headers=stranger["headers"]
    )
    assert_error(foreign, 404, "Job not found", "job_not_found")
    assert _comparable(foreign) == _comparable(missing)
    # The owner still sees it.
    assert (
        await harness.client.get(f"{API}/video-status/{job_id}", headers=owner["headers"])
    ).status_code == 200


async def test_every_key_of_the_account_sees_its_jobs(harness):
    partner = await harness.partner(credits=100)
    other_key = await harness.extra_key(partner["account"])
    job_id = (await _submit(harness, partner["headers"]))["job_id"]
    response = await harness.client.get(f"{API}/video-status/{job_id}", headers=other_key)
    assert response.status_code == 200
    assert response.json()["job_id"] == job_id


async def test_video_id_of_other_family_is_not_found(harness):
    """A local job looked up under another family's prefix is a different (unknown) id."""
    partner = await harness.partner(credits=100)
    job_id = (await _submit(harness, partner["headers"]))["job_id"]
    response = await harness.client.get(
        f"{API}/video-status/{job_id.replace('local_', 'sora_', 1)}", headers=partner["headers"]
    )
    assert_error(response, 404, "Job not found", "job_not_found")
