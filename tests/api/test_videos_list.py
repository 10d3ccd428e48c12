"""GET /videos: the account's video jobs, newest first, with a clamped ?limit= (D4a, D13)."""

from __future__ import annotations

import pytest

from knightvision.account import admin
from tests.fixtures.harness import API
from tests.fixtures.partner_api import (
    WIRE_TIME,
    assert_error,
    assert_no_nulls,
    assert_request_id,
    generate,
    local,
)

ITEM_FIELDS = {
    "job_id",
    "prompt",
    "model",
    "duration",
    "aspect_ratio",
    "credits_used",
    "status",
    "created_at",
}


async def _submit_many(harness, partner, count):
    await admin.key_limits(
        harness.container.engine, partner["key_prefix"], {"generate_video": 1000}
    )
    ids = []
    for n in range(count):
        response = await generate(
            harness.client, partner["headers"], local(f"prompt {n}", duration=1)
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["job_id"])
    return ids


async def _list(harness, headers, query=""):
    response = await harness.client.get(f"{API}/videos{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert_request_id(response)
    return [item["job_id"] for item in response.json()["videos"]]


async def test_empty_list(harness):
    partner = await harness.partner(credits=10)
    response = await harness.client.get(f"{API}/videos", headers=partner["headers"])
    assert response.status_code == 200
    assert response.json()["videos"] == []


async def test_items_have_the_documented_fields(harness):
    partner = await harness.partner(credits=100)
    prompt = "A person walking through a futuristic city"
    submitted = await generate(
        harness.client, partner["headers"], local(prompt, duration=5, aspect_ratio="1:1")
    )
    body = (await harness.client.get(f"{API}/videos", headers=partner["headers"])).json()
    [item] = body["videos"]
    assert set(item) >= ITEM_FIELDS, item
    assert item["job_id"] == submitted.json()["job_id"]
    assert item["prompt"] == prompt
    assert item["model"] == "local-storyboard"
    assert item["duration"] == 5 and isinstance(item["duration"], int)
    assert item["aspect_ratio"] == "1:1"
    assert item["credits_used"] == 5
    assert item["status"] == "queued"
    assert WIRE_TIME.fullmatch(item["created_at"])
    assert "video_url" not in item  # not complete yet
    assert_no_nulls(body)


async def test_newest_first_and_only_own_jobs(harness):
    mine = await harness.partner(credits=100)
    theirs = await harness.partner(credits=100)
    my_ids = await _submit_many(harness, mine, 4)
    their_ids = await _submit_many(harness, theirs, 2)
    assert await _list(harness, mine["headers"]) == list(reversed(my_ids))
    assert await _list(harness, theirs["headers"]) == list(reversed(their_ids))
    # The account's other keys see the same list.
    assert await _list(harness, await harness.extra_key(mine["account"])) == list(reversed(my_ids))


async def test_limits_and_clamping(harness):
    partner = await harness.partner(credits=100)
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"videos": 1000})
    newest_first = list(reversed(await _submit_many(harness, partner, 52)))
    cases = {
        "": 20,
        "?limit=1": 1,
        "?limit=7": 7,
        "?limit=20": 20,
        "?limit=50": 50,
        "?limit=51": 50,
        "?limit=100": 50,
        "?limit=999999": 50,
        "?limit=0": 1,
        "?limit=-5": 1,
        "?limit=-999999": 1,
        "?limit=1234567890123": 50,
        f"?limit={'9' * 5000}": 50,
        f"?limit=-{'9' * 5000}": 1,
        "?limit=+0000000000007": 7,
    }
    for query, expected in cases.items():
        assert await _list(harness, partner["headers"], query) == newest_first[:expected], query


@pytest.mark.parametrize(
    "query",
    ["abc", "1.5", "", "1e3", "0x10", "5abc", "1,2", "NaN", "１０"],
)
async def test_non_integer_limit(harness, query):
    partner = await harness.partner(credits=10)
    response = await harness.client.get(f"{API}/videos?limit={query}", headers=partner["headers"])
    assert_error(response, 400, "Invalid limit", "invalid_limit")


async def test_unknown_query_parameters_are_ignored(harness):
    partner = await harness.partner(credits=10)
    response = await harness.client.get(f"{API}/videos?page=2&foo=bar", headers=partner["headers"])
    assert response.status_code == 200
