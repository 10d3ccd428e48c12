"""Idempotency-Key on the paid POSTs (an addition): a retry is answered with the first reply (same
job, no second charge), another body is 422, a request still running is 409; records survive a
restart, are scoped to the API key and endpoint, and expire after 24 hours."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from knightvision.account import admin
from knightvision.db.schema import api_keys, idempotency_keys, jobs
from knightvision.idempotency.store import Fresh, fingerprint
from knightvision.kit.clock import utcnow
from tests.fixtures.harness import API, running_harness
from tests.fixtures.partner_api import assert_error, balance_of, local

REPLAYED = "Idempotent-Replayed"
AD = {"url": "https://www.tiktok.com/@brand/video/7300000000000000001"}


def _with_key(partner, key: str) -> dict[str, str]:
    return {**partner["headers"], "Idempotency-Key": key}


async def _job_count(api) -> int:
    async with api.container.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(jobs))).scalar_one()


async def _post(api, partner, key: str, path: str = "generate-video", body=None):
    return await api.client.post(
        f"{API}/{path}",
        json=local(duration=5) if body is None else body,
        headers=_with_key(partner, key),
    )


async def test_a_retry_gets_the_first_reply_and_no_second_charge(harness):
    partner = await harness.partner(credits=100)
    first = await _post(harness, partner, "order-1")
    assert first.status_code == 200 and REPLAYED not in first.headers
    again = await _post(harness, partner, "order-1")
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    replay, original = again.json(), first.json()
    assert replay.pop("request_id") != original.pop("request_id")  # a new request, the same answer
    assert replay == original
    assert await _job_count(harness) == 1
    assert await balance_of(harness, partner["account_id"]) == 95


async def test_the_same_body_in_another_key_order_is_the_same_request(harness):
    partner = await harness.partner(credits=100)
    await harness.client.post(
        f"{API}/generate-video",
        content=b'{"prompt": "A cat", "model": "local-storyboard", "duration": 5}',
        headers={**_with_key(partner, "k"), "Content-Type": "application/json"},
    )
    again = await harness.client.post(
        f"{API}/generate-video",
        content=b'{"duration":5,"model":"local-storyboard","prompt":"A cat"}',
        headers={**_with_key(partner, "k"), "Content-Type": "application/json"},
    )
    assert again.headers[REPLAYED] == "true"


async def test_the_same_key_with_another_body_is_422(harness):
    partner = await harness.partner(credits=100)
    await _post(harness, partner, "order-1")
    other = await _post(harness, partner, "order-1", body=local(duration=6))
    body = assert_error(
        other,
        422,
        "This Idempotency-Key was used with a different request body",
        "idempotency_key_reused",
    )
    assert body["param"] == "Idempotency-Key"
    assert await _job_count(harness) == 1


async def test_keys_are_scoped_to_the_api_key_and_the_endpoint(harness):
    partner = await harness.partner(credits=100)
    second_key = await harness.extra_key(partner["account"])
    await _post(harness, partner, "shared")
    analysis = await _post(harness, partner, "shared", path="analyze", body=AD)
    other_key = await harness.client.post(
        f"{API}/generate-video",
        json=local(duration=5),
        headers={**second_key, "Idempotency-Key": "shared"},
    )
    assert REPLAYED not in analysis.headers and REPLAYED not in other_key.headers
    assert other_key.status_code == 200, other_key.text
    assert await _job_count(harness) == 3


async def test_a_refused_submit_records_nothing(harness):
    partner = await harness.partner(credits=3)
    refused = await _post(harness, partner, "k", body=local(duration=99))
    assert_error(refused, 400, "Invalid duration", "invalid_duration")
    poor = await _post(harness, partner, "k")
    assert_error(poor, 402, "Insufficient credits", "insufficient_credits")
    await admin.change_credits(
        harness.container.engine, partner["account"], 10, "top-up", kind="grant"
    )
    paid = await _post(harness, partner, "k")
    assert paid.status_code == 200 and REPLAYED not in paid.headers
    assert await _job_count(harness) == 1


async def test_concurrent_duplicates_make_one_job_and_one_debit(harness):
    partner = await harness.partner(credits=100)
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"generate_video": 100})
    replies = await asyncio.gather(*[_post(harness, partner, "burst") for _ in range(12)])
    statuses = [(reply.status_code, reply.headers.get(REPLAYED)) for reply in replies]
    assert statuses.count((200, None)) == 1, statuses
    assert all(status in {(200, None), (200, "true"), (409, None)} for status in statuses)
    job_ids = {reply.json()["job_id"] for reply in replies if reply.status_code == 200}
    assert len(job_ids) == 1
    for reply in replies:
        if reply.status_code == 409:
            assert_error(
                reply,
                409,
                "A request with this Idempotency-Key is in progress",
                "idempotency_key_in_flight",
            )
            assert reply.headers["Retry-After"] == "1"
    assert await _job_count(harness) == 1
    assert await balance_of(harness, partner["account_id"]) == 95


async def test_a_key_held_by_a_running_request_is_409_until_its_lock_lapses(harness):
    partner = await harness.partner(credits=100)
    store = harness.container.idempotency
    body = local(duration=5)
    async with harness.container.engine.connect() as conn:
        key_id = (
            await conn.execute(
                select(api_keys.c.id).where(api_keys.c.prefix == partner["key_prefix"])
            )
        ).scalar_one()
    held = await store.claim(key_id, "generate-video", "k", fingerprint(body))
    assert isinstance(held, Fresh)  # a request that got this far and then died, mid-submit
    busy = await _post(harness, partner, "k", body=body)
    assert busy.status_code == 409
    assert await _job_count(harness) == 0

    async with harness.container.engine.begin() as conn:  # its lock runs out
        await conn.execute(
            update(idempotency_keys).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    taken_over = await _post(harness, partner, "k", body=body)
    assert taken_over.status_code == 200 and REPLAYED not in taken_over.headers
    assert (await _post(harness, partner, "k", body=body)).headers[REPLAYED] == "true"
    assert await _job_count(harness) == 1


async def test_replays_survive_a_restart(settings_factory):
    settings = settings_factory()
    async with running_harness(settings, run_workers=False) as before:
        partner = await before.partner(credits=100)
        first = await _post(
            before,
            partner,
            "k",
            path="characters",
            body={"name": "Host", "prompt": "A friendly host in a bright studio"},
        )
    async with running_harness(settings, run_workers=False) as after:
        again = await _post(
            after,
            partner,
            "k",
            path="characters",
            body={"name": "Host", "prompt": "A friendly host in a bright studio"},
        )
        assert again.headers[REPLAYED] == "true"
        assert again.json()["character_id"] == first.json()["character_id"]
        assert await _job_count(after) == 1


async def test_a_key_is_kept_for_24_hours(harness):
    partner = await harness.partner(credits=100)
    await _post(harness, partner, "k")
    async with harness.container.engine.begin() as conn:
        await conn.execute(
            update(idempotency_keys).values(created_at=utcnow() - timedelta(hours=24, seconds=1))
        )
    fresh = await _post(harness, partner, "k")
    assert fresh.status_code == 200 and REPLAYED not in fresh.headers
    assert await _job_count(harness) == 2


@pytest.mark.parametrize("key", ["", " padded", "x" * 256, "tab\there", "naïve"])
async def test_a_malformed_key_is_a_clear_400(harness, key):
    partner = await harness.partner(credits=100)
    response = await harness.client.post(
        f"{API}/generate-video",
        json=local(duration=5),
        headers={**partner["headers"], "Idempotency-Key": key.encode("utf-8")},
    )
    body = assert_error(
        response,
        400,
        "Idempotency-Key must be 1 to 255 visible ASCII characters",
        "invalid_idempotency_key",
    )
    assert body["param"] == "Idempotency-Key"
    assert await _job_count(harness) == 0
