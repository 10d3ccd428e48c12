"""Ledger invariants under concurrent submits (D10): never negative, exact, equal to the ledger's
sum."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from knightvision.account import admin
from knightvision.db.schema import api_keys, jobs, ledger_entries
from tests.fixtures.partner_api import assert_error, balance_of, generate, ledger_total, local

REQUESTS = 30
KEYS = 3


async def _keys_with_room(api, partner) -> list[dict[str, str]]:
    keys = [partner["headers"]]
    for _ in range(KEYS - 1):
        keys.append(await api.extra_key(partner["account"]))
    engine = api.container.engine
    async with engine.connect() as conn:
        prefixes = [
            row.prefix
            for row in await conn.execute(
                select(api_keys.c.prefix).where(api_keys.c.account_id == partner["account_id"])
            )
        ]
    for prefix in prefixes:
        await admin.key_limits(engine, prefix, {"generate_video": REQUESTS})
    return keys


async def _count(api, table, account_id, *where) -> int:
    async with api.container.engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(table)
                .where(table.c.account_id == account_id, *where)
            )
        )


@pytest.mark.parametrize(
    "balance, duration, per_second",
    [
        (10, 1, 1),
        (25, 3, 1),
        (7, 7, 1),
        (6, 7, 1),
        (0, 1, 1),
        (59, 2, 1),
        (100, 2, 1),  # enough for everyone
        (45, 2, 3),  # operator price: 6 credits per job
        (1000, 1, 0),  # free: all accepted, nothing moves
    ],
)
async def test_concurrent_submits_never_overspend(make_harness, balance, duration, per_second):
    api = await make_harness(prices={"video_local_storyboard_per_second": per_second})
    partner = await api.partner(credits=balance)
    keys = await _keys_with_room(api, partner)
    cost = duration * per_second
    expected = REQUESTS if cost == 0 else min(REQUESTS, balance // cost)

    responses = await asyncio.gather(
        *(
            generate(api.client, keys[n % KEYS], local(f"race {n}", duration=duration))
            for n in range(REQUESTS)
        )
    )

    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(accepted) == expected, [r.text for r in responses]
    for response in refused:
        body = assert_error(response, 402, "Insufficient credits", "insufficient_credits")
        assert body["credits_required"] == cost
        assert 0 <= body["credits_remaining"] < cost
    # Each accepted response reports the balance right after its own debit: all distinct, all exact.
    remainders = sorted((r.json()["credits_remaining"] for r in accepted), reverse=True)
    assert remainders == [balance - cost * (n + 1) for n in range(expected)]
    assert all(r.json()["credits_used"] == cost for r in accepted)
    assert len({r.json()["job_id"] for r in accepted}) == expected

    final = await balance_of(api, partner["account_id"])
    assert final == balance - expected * cost >= 0
    assert await ledger_total(api, partner["account_id"]) == final
    assert await _count(api, jobs, partner["account_id"]) == expected
    assert (
        await _count(api, ledger_entries, partner["account_id"], ledger_entries.c.kind == "debit")
        == expected
    )
