"""The outbox: an event exists exactly when its job's end (or the debit) committed, and the feed
pages an account's events with no gaps and no repeats while they are being written."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from knightvision.analysis.service import ANALYSIS_JOB_KIND
from knightvision.db.engine import write_transaction
from knightvision.db.schema import webhook_events
from knightvision.job.errors import JobFailure
from tests.webhooks.conftest import AD_URL, MakeContainer, end_analysis, new_partner, register

WRITERS = 6
EVENTS_EACH = 8


async def all_events(container, account_id: int) -> list:  # type: ignore[no-untyped-def]
    async with container.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    select(webhook_events)
                    .where(webhook_events.c.account_id == account_id)
                    .order_by(webhook_events.c.seq)
                )
            ).all()
        )


async def test_paging_while_events_are_written_skips_none(make_container: MakeContainer) -> None:
    container = await make_container()
    partner = await new_partner(container)
    other = await new_partner(container)
    writing = True

    async def writer(number: int) -> None:
        for index in range(EVENTS_EACH):
            async with write_transaction(container.engine) as conn:
                await container.outbox.record(
                    conn, partner.account_id, "credits.low", {"writer": number, "index": index}
                )
                await container.outbox.record(conn, other.account_id, "credits.low", {})
                # commits land in a different order than the transactions began
                await asyncio.sleep(random.uniform(0, 0.01))

    async def reader() -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            still_writing = writing
            page = await container.events.page(partner.account_id, after, 3)
            seen += [event["id"] for event in page["events"]]
            if page["events"]:
                after = page["events"][-1]["id"]
            elif not still_writing:
                return seen
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(number) for number in range(WRITERS)))
    writing = False
    seen = await reading

    stored = await all_events(container, partner.account_id)
    assert [row.seq for row in stored] == list(range(1, WRITERS * EVENTS_EACH + 1))
    assert seen == [row.id for row in stored]  # every event once, in order


async def test_the_event_is_written_with_the_jobs_end(make_container: MakeContainer) -> None:
    container = await make_container()
    partner = await new_partner(container)
    job_id = await end_analysis(container, partner, succeed=True)
    [event] = (await container.events.page(partner.account_id, None, 10))["events"]
    assert event["type"] == "analysis.completed"
    status = await container.analyses.status(partner, job_id)
    assert event["data"] == status  # the status endpoint's view, as it was at the end


async def test_a_worker_that_lost_its_lease_writes_no_event(make_container: MakeContainer) -> None:
    container = await make_container(lease_seconds=1)
    partner = await new_partner(container)
    await container.analyses.submit(partner, {"url": AD_URL})
    stale = await container.queue.claim("first", [ANALYSIS_JOB_KIND])
    assert stale is not None
    await asyncio.sleep(1.1)
    current = await container.queue.claim("second", [ANALYSIS_JOB_KIND])
    assert current is not None
    assert not await container.queue.complete(stale, {"summary": "late"})
    assert (await container.events.page(partner.account_id, None, 10))["events"] == []
    assert await container.queue.fail(current, JobFailure("download_failed", "gone"))
    [event] = (await container.events.page(partner.account_id, None, 10))["events"]
    assert event["type"] == "analysis.failed"


async def test_a_rolled_back_end_leaves_no_event(make_container: MakeContainer) -> None:
    container = await make_container()
    partner = await new_partner(container)

    async def end_that_fails_to_commit() -> None:
        async with write_transaction(container.engine) as conn:
            await container.outbox.record(conn, partner.account_id, "credits.low", {})
            raise RuntimeError("the job's end failed to commit")

    with pytest.raises(RuntimeError):
        await end_that_fails_to_commit()
    assert await all_events(container, partner.account_id) == []
    await end_analysis(container, partner)
    [event] = await all_events(container, partner.account_id)
    assert event.seq == 1  # the rolled-back number is taken again: no gap


async def test_credits_low_once_when_a_charge_crosses_the_threshold(
    make_container: MakeContainer,
) -> None:
    container = await make_container()
    analysis_price = container.settings.price_table["analysis"]
    partner = await new_partner(container, credits=analysis_price * 2 + 10)
    await container.analyses.submit(partner, {"url": AD_URL})  # left: one analysis + 10
    assert (await container.events.page(partner.account_id, None, 10))["events"] == []
    await container.analyses.submit(partner, {"url": AD_URL})  # left: 10, below one analysis
    [event] = (await container.events.page(partner.account_id, None, 10))["events"]
    assert event["type"] == "credits.low"
    assert event["data"] == {"credits_remaining": 10, "threshold": analysis_price}


async def test_deliveries_go_only_to_subscribed_enabled_endpoints(
    make_container: MakeContainer,
) -> None:
    container = await make_container()
    partner = await new_partner(container)
    await register(container, partner, "http://127.0.0.1:9/all")
    await register(container, partner, "http://127.0.0.1:9/done", events=["analysis.completed"])
    await end_analysis(container, partner)
    pending = await container.queue.pending_count()
    assert pending == 1  # analysis.failed: only the endpoint that takes every event
    [event] = (await container.events.page(partner.account_id, None, 10))["events"]
    again = await container.events.redeliver(partner.account_id, event["id"])
    assert again == {"event_id": event["id"], "deliveries": 1}
    assert await container.queue.pending_count() == 2
