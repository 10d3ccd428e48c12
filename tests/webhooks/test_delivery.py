"""Signed deliveries to a real receiver on loopback, on SQLite and PostgreSQL: retries in the
schedule's order through failures and a timeout, one webhook-id throughout, none lost; 410
disables the endpoint; an exhausted schedule fails the delivery; a rotated secret signs beside
the new one."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from tests.webhooks.conftest import (
    MakeContainer,
    deliveries,
    delivering,
    end_analysis,
    new_partner,
    register,
    verified,
)
from tests.webhooks.receiver import Endless, Stall, receiver

SCHEDULE = [0.3, 0.6, 0.9]
TIMEOUT = 0.5


async def settled(container, count: int = 1):  # type: ignore[no-untyped-def]
    """The deliveries once ``count`` of them are no longer pending (or after 15 s)."""
    deadline = time.monotonic() + 15.0
    while True:
        rows = await deliveries(container)
        if sum(row.status != "pending" for row in rows) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.05)


async def test_fails_times_out_and_recovers_in_schedule_order(
    make_container: MakeContainer,
) -> None:
    container = await make_container(
        webhook_retry_schedule=SCHEDULE, webhook_timeout_seconds=TIMEOUT
    )
    partner = await new_partner(container)
    with receiver([500, Stall(TIMEOUT + 1.0), 503]) as hook:
        endpoint = await register(container, partner, hook.url)
        async with delivering(container):
            job_id = await end_analysis(container, partner)
            arrivals = await asyncio.to_thread(hook.wait_for, 4)
            [delivery] = await settled(container)
        await asyncio.sleep(SCHEDULE[-1] + 0.3)  # nothing more comes after the success
        assert len(hook.arrivals) == 4

    assert delivery.status == "delivered" and delivery.attempts == 4
    assert delivery.last_status_code == 200
    assert len({arrival.headers["webhook-id"] for arrival in arrivals}) == 1
    for arrival in arrivals:
        assert verified(endpoint["secret"], arrival.headers, arrival.body)
        assert arrival.headers["content-type"] == "application/json"
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(arrivals)]
    # each wait is at least its scheduled delay (the stalled attempt also waited out the timeout)
    assert gaps[0] >= SCHEDULE[0]
    # (the timeout runs from the connection, a moment before the receiver sees the request)
    assert gaps[1] >= TIMEOUT + SCHEDULE[1] - 0.1
    assert gaps[1] < TIMEOUT + 1.0 + SCHEDULE[1]  # the sender gave up, not the stalled receiver
    assert gaps[2] >= SCHEDULE[2]
    payload = json.loads(arrivals[-1].body)
    assert payload["type"] == "analysis.failed"
    assert payload["data"]["job_id"] == job_id
    assert payload["data"]["status"] == "error"
    assert payload["data"]["error_code"] == "download_failed"
    assert payload["data"]["credits_refunded"] == payload["data"]["credits_used"]
    assert abs(int(arrivals[-1].headers["webhook-timestamp"]) - time.time()) < 60


async def test_gone_disables_the_endpoint_at_once(make_container: MakeContainer) -> None:
    container = await make_container(webhook_retry_schedule=SCHEDULE)
    partner = await new_partner(container)
    with receiver([410]) as hook:
        await register(container, partner, hook.url)
        async with delivering(container):
            await end_analysis(container, partner)
            [delivery] = await settled(container)
            await end_analysis(container, partner, succeed=True)  # no endpoint takes it now
            await asyncio.sleep(SCHEDULE[0] + 0.3)
        assert len(hook.arrivals) == 1
    assert delivery.status == "failed" and delivery.last_status_code == 410
    [listed] = await container.webhooks.list(partner.account_id)
    assert listed["enabled"] is False and listed["disabled_reason"] == "gone"
    assert len(await deliveries(container)) == 1


async def test_an_exhausted_schedule_fails_the_delivery(make_container: MakeContainer) -> None:
    container = await make_container(webhook_retry_schedule=[0.1, 0.1])
    partner = await new_partner(container)
    with receiver(then=500) as hook:
        await register(container, partner, hook.url)
        async with delivering(container):
            await end_analysis(container, partner)
            [delivery] = await settled(container)
        assert len(hook.arrivals) == 3  # the first attempt and one per scheduled delay
    assert delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_status_code == 500
    [listed] = await container.webhooks.list(partner.account_id)
    assert listed["enabled"] is True  # failing for less than disable_after


async def test_an_endpoint_failing_past_its_limit_is_disabled(
    make_container: MakeContainer,
) -> None:
    container = await make_container(
        webhook_retry_schedule=[0.2] * 10, webhook_disable_after_seconds=0.5
    )
    partner = await new_partner(container)
    with receiver(then=500) as hook:
        await register(container, partner, hook.url)
        async with delivering(container):
            await end_analysis(container, partner)
            [delivery] = await settled(container)
    assert delivery.status == "failed" and delivery.attempts < 10
    [listed] = await container.webhooks.list(partner.account_id)
    assert listed["enabled"] is False and listed["disabled_reason"] == "failing"


async def test_a_rotated_secret_signs_beside_the_new_one(make_container: MakeContainer) -> None:
    container = await make_container()
    partner = await new_partner(container)
    with receiver() as hook:
        first = await register(container, partner, hook.url, events=["analysis.completed"])
        second = await container.webhooks.rotate(partner.account_id, first["id"])
        assert second["secret"] != first["secret"]
        async with delivering(container):
            await end_analysis(container, partner)  # analysis.failed: not subscribed
            await end_analysis(container, partner, succeed=True)
            [arrival] = await asyncio.to_thread(hook.wait_for, 1)
            await settled(container)
    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    assert verified(first["secret"], arrival.headers, arrival.body)
    assert verified(second["secret"], arrival.headers, arrival.body)
    assert not verified("whsec_" + "A" * 32, arrival.headers, arrival.body)
    assert json.loads(arrival.body)["type"] == "analysis.completed"


async def test_an_endless_reply_is_read_only_so_far(make_container: MakeContainer) -> None:
    """The reply's body is read up to a cap: a 200 whose body never ends is delivered, well
    before the attempt's timeout would have ended it as a failure."""
    container = await make_container(webhook_retry_schedule=[0.1], webhook_timeout_seconds=20)
    partner = await new_partner(container)
    with receiver([Endless()]) as hook:
        await register(container, partner, hook.url)
        async with delivering(container):
            await end_analysis(container, partner)
            started = time.monotonic()
            [delivery] = await settled(container)
            waited = time.monotonic() - started
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert waited < 10
