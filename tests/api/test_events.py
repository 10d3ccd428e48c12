"""The events feed over HTTP: the status endpoint's view of each ended job, oldest first, paged by
``after``; redelivery sends the same event (same webhook-id) again to a receiver on loopback."""

from __future__ import annotations

import asyncio
import json

from knightvision.api.webhook_schemas import EventsRead, Redelivered
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error
from tests.webhooks.conftest import delivering, end_analysis, verified
from tests.webhooks.receiver import receiver


async def principal_of(harness, partner):  # type: ignore[no-untyped-def]
    from knightvision.account.repository import find_principal

    return await find_principal(harness.container.reads, partner["api_key"])


async def test_pages_follow_the_order_jobs_ended(api):
    partner, other = await api.partner(), await api.partner()
    principal = await principal_of(api, partner)
    ended = [await end_analysis(api.container, principal, succeed=n % 2 == 0) for n in range(5)]
    seen, after = [], None
    while True:
        query = "?limit=2" + (f"&after={after}" if after else "")
        response = await api.client.get(f"{API}/events{query}", headers=partner["headers"])
        page = EventsRead.model_validate(response.json())
        seen += page.events
        if not page.has_more:
            break
        after = page.events[-1].id
    assert [event.data["job_id"] for event in seen] == ended
    assert [event.type for event in seen] == [
        "analysis.completed" if n % 2 == 0 else "analysis.failed" for n in range(5)
    ]
    status = await api.client.get(f"{API}/status/{ended[0]}", headers=partner["headers"])
    assert seen[0].data == {k: v for k, v in status.json().items() if k != "request_id"}

    foreign = await api.client.get(f"{API}/events?after={seen[0].id}", headers=other["headers"])
    assert_error(foreign, 400, "Invalid after", "invalid_after")
    assert (await api.client.get(f"{API}/events", headers=other["headers"])).json()["events"] == []


async def test_redelivery_sends_the_same_message_again(make_harness):
    harness = await make_harness(webhook_allow_private=True)
    partner, other = await harness.partner(), await harness.partner()
    principal = await principal_of(harness, partner)
    with receiver() as hook:
        created = await harness.client.post(
            f"{API}/webhooks", headers=partner["headers"], json={"url": hook.url}
        )
        async with delivering(harness.container):
            await end_analysis(harness.container, principal)
            [first] = await asyncio.to_thread(hook.wait_for, 1)
            [event] = (
                await harness.client.get(f"{API}/events", headers=partner["headers"])
            ).json()["events"]
            again = await harness.client.post(
                f"{API}/events/{event['id']}/redeliver", headers=partner["headers"]
            )
            assert Redelivered.model_validate(again.json()).deliveries == 1
            arrivals = await asyncio.to_thread(hook.wait_for, 2)
        refused = await harness.client.post(
            f"{API}/events/{event['id']}/redeliver", headers=other["headers"]
        )
        assert_error(refused, 404, "Not found", "not_found")
    assert len(arrivals) == 2
    assert {arrival.headers["webhook-id"] for arrival in arrivals} == {event["id"]}
    for arrival in arrivals:
        assert verified(created.json()["secret"], arrival.headers, arrival.body)
        assert json.loads(arrival.body) == {k: v for k, v in event.items() if k != "id"}
    assert first.body == arrivals[1].body
