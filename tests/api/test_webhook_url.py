"""A paid submit's own ``webhook_url`` (an addition): checked like an endpoint's URL before any
charge, kept with the job it creates, and sent the job's terminal event, signed with the secret of
the account's oldest enabled endpoint."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from knightvision.db.schema import job_webhooks, webhook_deliveries
from tests.fixtures.characters import create_character, run_queued
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error, balance_of, local
from tests.webhooks.conftest import AD_URL, delivering, end_queued_analysis, verified
from tests.webhooks.receiver import receiver


async def own_urls(harness) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with harness.container.engine.connect() as conn:
        return {row.job_id: row.url for row in await conn.execute(select(job_webhooks))}


async def test_refused_before_any_charge(api):
    partner = await api.partner(credits=1000)
    no_endpoint = await api.client.post(
        f"{API}/analyze",
        headers=partner["headers"],
        json={"url": AD_URL, "webhook_url": "https://93.184.215.14/mine"},
    )
    body = assert_error(
        no_endpoint,
        400,
        "webhook_url needs a registered webhook endpoint: its secret signs the messages",
        "no_webhook_endpoint",
    )
    assert body["param"] == "webhook_url"
    await api.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": "https://93.184.215.14/h"}
    )
    private = await api.client.post(
        f"{API}/generate-video",
        headers=partner["headers"],
        json=local(duration=5, webhook_url="https://10.0.0.8/mine"),
    )
    body = assert_error(
        private,
        400,
        "webhook_url resolves to a private address (10.0.0.8)",
        "invalid_webhook_url",
    )
    assert body["param"] == "webhook_url"
    estimate = await api.client.post(
        f"{API}/estimate",
        headers=partner["headers"],
        json={"endpoint": "analyze", "body": {"url": AD_URL, "webhook_url": "ftp://x/"}},
    )
    assert_error(estimate, 400, "webhook_url must use https", "invalid_webhook_url")
    assert await balance_of(api, partner["account_id"]) == 1000
    assert await own_urls(api) == {}


async def test_the_job_end_is_sent_to_it_signed(make_harness):
    harness = await make_harness(webhook_allow_private=True)
    partner = await harness.partner()
    with receiver() as endpoint_hook, receiver() as own_hook:
        created = await harness.client.post(
            f"{API}/webhooks",
            headers=partner["headers"],
            json={"url": endpoint_hook.url, "events": ["video.completed"]},
        )
        submitted = await harness.client.post(
            f"{API}/analyze",
            headers=partner["headers"],
            json={"url": AD_URL, "webhook_url": own_hook.url},
        )
        assert submitted.status_code == 200, submitted.text
        job_id = submitted.json()["job_id"]
        assert await own_urls(harness) == {job_id: own_hook.url}
        async with delivering(harness.container):
            assert await end_queued_analysis(harness.container) == job_id
            [arrival] = await asyncio.to_thread(own_hook.wait_for, 1)
            await asyncio.sleep(0.3)
        assert endpoint_hook.arrivals == []  # the endpoint does not take analysis.failed
    assert verified(created.json()["secret"], arrival.headers, arrival.body)
    payload = json.loads(arrival.body)
    assert payload["type"] == "analysis.failed" and payload["data"]["job_id"] == job_id


async def test_character_jobs_keep_it_and_end_with_their_events(make_harness):
    harness = await make_harness(webhook_allow_private=True)
    partner = await harness.partner()
    await harness.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": "http://127.0.0.1:9/all"}
    )
    created = await create_character(
        harness.client, partner["headers"], webhook_url="http://127.0.0.1:9/create"
    )
    assert created.status_code == 200, created.text
    character = created.json()["character_id"]
    await run_queued(harness)
    finalized = await harness.client.post(
        f"{API}/characters/{character}/finalize",
        headers=partner["headers"],
        json={"webhook_url": "http://127.0.0.1:9/finalize"},
    )
    assert finalized.status_code == 200, finalized.text
    await run_queued(harness)

    assert sorted((await own_urls(harness)).values()) == [
        "http://127.0.0.1:9/create",
        "http://127.0.0.1:9/finalize",
    ]
    events = (await harness.client.get(f"{API}/events", headers=partner["headers"])).json()
    assert [event["type"] for event in events["events"]] == [
        "character.ready",
        "character.finalized",
    ]
    shown = await harness.client.get(f"{API}/characters/{character}", headers=partner["headers"])
    final = events["events"][-1]["data"]
    assert final == {k: v for k, v in shown.json().items() if k != "request_id"}
    async with harness.container.engine.connect() as conn:
        targets = sorted(
            row.url or "endpoint" for row in await conn.execute(select(webhook_deliveries))
        )
    assert targets == [
        "endpoint",
        "endpoint",
        "http://127.0.0.1:9/create",
        "http://127.0.0.1:9/finalize",
    ]
