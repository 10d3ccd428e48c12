"""GET /credits: the documented shape and the prices in force (D12, D15)."""

from __future__ import annotations

import pytest

from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_request_id, generate, local

DOCUMENTED_COSTS = {
    "analysis": 50,
    "video_sora2_10s": 22,
    "video_sora2_15s": 25,
    "video_sora2pro_15s": 154,
    "video_sora2pro_25s": 175,
    "video_kling_per_second_720p": 10,
    "video_kling_per_second_1080p": 13,
    "character_creation": 22,
    "character_finalize": 3,
}


@pytest.mark.parametrize("credits", [0, 950, 10**9])
async def test_documented_shape(harness, credits):
    partner = await harness.partner(credits=credits)
    response = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert response.status_code == 200, response.text
    assert_request_id(response)
    body = response.json()
    assert {"request_id", "credits_remaining", "credit_cost_per_analysis", "costs"} <= set(body)
    assert body["credits_remaining"] == credits
    assert body["credit_cost_per_analysis"] == 50
    costs = body["costs"]
    for name, price in DOCUMENTED_COSTS.items():
        assert costs[name] == price, name
    assert costs["video_local_storyboard_per_second"] == 1
    assert all(isinstance(value, int) and not isinstance(value, bool) for value in costs.values())


async def test_balance_follows_submissions(harness):
    partner = await harness.partner(credits=30)
    other_key = await harness.extra_key(partner["account"])
    await generate(harness.client, partner["headers"], local(duration=8))
    await generate(harness.client, other_key, local(duration=2))
    for headers in (partner["headers"], other_key):  # one pool per account
        body = (await harness.client.get(f"{API}/credits", headers=headers)).json()
        assert body["credits_remaining"] == 20


async def test_accounts_do_not_share_a_pool(harness):
    first = await harness.partner(credits=30)
    second = await harness.partner(credits=30)
    await generate(harness.client, first["headers"], local(duration=8))
    assert (await harness.client.get(f"{API}/credits", headers=second["headers"])).json()[
        "credits_remaining"
    ] == 30


@pytest.mark.parametrize(
    "overrides",
    [
        {"video_local_storyboard_per_second": 2},
        {"analysis": 40},
        {"video_kling_per_second_720p": 12, "video_sora2_10s": 30},
        {"video_local_storyboard_per_second": 0},
    ],
)
async def test_operator_prices_are_reported(make_harness, overrides):
    api = await make_harness(prices=overrides)
    partner = await api.partner(credits=100)
    body = (await api.client.get(f"{API}/credits", headers=partner["headers"])).json()
    expected = {**DOCUMENTED_COSTS, "video_local_storyboard_per_second": 1, **overrides}
    assert {name: body["costs"][name] for name in expected} == expected
    assert body["credit_cost_per_analysis"] == expected["analysis"]
    per_second = expected["video_local_storyboard_per_second"]
    submitted = await generate(api.client, partner["headers"], local(duration=5))
    assert submitted.json()["credits_used"] == 5 * per_second
    assert submitted.json()["credits_remaining"] == 100 - 5 * per_second
