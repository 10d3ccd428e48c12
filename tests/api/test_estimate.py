"""POST /estimate (an addition): the price a submit would be charged, after every check it makes,
with nothing created or charged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from knightvision.account import admin
from knightvision.api.schemas import EstimateRead
from knightvision.db.schema import jobs
from knightvision.media.shapes import ASPECT_RATIOS
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error, balance_of, local

UPSTREAM_CREDENTIALS = {
    "evolink_api_key": "k",
    "kie_api_key": "k",
    "openai_api_key": "k",
    "kling_access_key": "a",
    "kling_secret_key": "s",
}
CREATOR = {"name": "Sales Expert", "prompt": "A friendly host in a bright studio"}


async def _estimate(api, partner, endpoint: str, body: Any = None):
    wrapper: dict[str, Any] = {"endpoint": endpoint}
    if body is not None:
        wrapper["body"] = body
    return await api.client.post(f"{API}/estimate", json=wrapper, headers=partner["headers"])


async def _job_count(api) -> int:
    async with api.container.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(jobs))).scalar_one()


async def test_the_estimate_is_the_charge_for_every_model_duration_and_resolution(make_harness):
    api = await make_harness(**UPSTREAM_CREDENTIALS)
    partner = await api.partner(credits=1_000_000)
    await admin.key_limits(
        api.container.engine, partner["key_prefix"], {"generate_video": 10_000, "estimate": 10_000}
    )
    checked = 0
    for model in api.container.registry.models():
        for duration in model.durations:
            for resolution in model.resolutions:
                for aspect_ratio in ASPECT_RATIOS:
                    body = {
                        "prompt": "A cat surfing at sunset",
                        "model": model.name,
                        "duration": duration,
                        "resolution": resolution,
                        "aspect_ratio": aspect_ratio,
                    }
                    estimate = await _estimate(api, partner, "generate-video", body)
                    before = await balance_of(api, partner["account_id"])
                    submit = await api.client.post(
                        f"{API}/generate-video", json=body, headers=partner["headers"]
                    )
                    if estimate.status_code != 200:  # a shape the upstream cannot deliver
                        assert submit.status_code == estimate.status_code, body
                        assert submit.json()["code"] == estimate.json()["code"], body
                        continue
                    assert submit.status_code == 200, (body, submit.text)
                    quoted = EstimateRead.model_validate(estimate.json())
                    charged = submit.json()["credits_used"]
                    assert quoted.credits_required == charged, body
                    assert quoted.credits_remaining == before
                    assert before - await balance_of(api, partner["account_id"]) == charged
                    checked += 1
    assert checked >= 100  # every model, not just the offline one


async def test_an_estimate_creates_and_charges_nothing(harness):
    partner = await harness.partner(credits=50)
    jobs_before = await _job_count(harness)
    for endpoint, body in [
        ("generate-video", local(duration=10)),
        ("analyze", {"url": "https://www.tiktok.com/@brand/video/7300000000000000001"}),
        ("characters", CREATOR),
    ]:
        response = await _estimate(harness, partner, endpoint, body)
        assert response.status_code == 200, response.text
        quote = EstimateRead.model_validate(response.json())
        assert (quote.endpoint, quote.credits_remaining, quote.sufficient) == (endpoint, 50, True)
        assert quote.credits_required == response.json()["credits_required"] > 0
    assert await _job_count(harness) == jobs_before
    assert await balance_of(harness, partner["account_id"]) == 50


async def test_a_balance_too_small_is_reported_not_refused(harness):
    partner = await harness.partner(credits=5)
    response = await _estimate(harness, partner, "generate-video", local(duration=60))
    assert response.status_code == 200
    assert response.json()["sufficient"] is False
    assert response.json()["credits_required"] == 60
    submit = await harness.client.post(
        f"{API}/generate-video", json=local(duration=60), headers=partner["headers"]
    )
    assert_error(submit, 402, "Insufficient credits", "insufficient_credits")


@pytest.mark.parametrize(
    "endpoint, body, status, error, code",
    [
        ("generate-video", {"prompt": ""}, 400, "Please provide a prompt", "missing_prompt"),
        ("generate-video", local(duration=99), 400, "Invalid duration", "invalid_duration"),
        (
            "generate-video",
            {"prompt": "A cat", "model": "sora-2"},
            500,
            "Video generation not available",
            "generation_unavailable",
        ),
        (
            "analyze",
            {"url": "https://example.com"},
            400,
            "Please provide a valid Facebook, Instagram, or TikTok URL",
            "invalid_url",
        ),
        ("characters", {"prompt": "A host"}, 400, "Please provide a name", "missing_name"),
        ("characters/999999/finalize", {}, 404, "Not found", "not_found"),
    ],
)
async def test_an_invalid_submit_gets_the_error_the_submit_would(
    harness, endpoint, body, status, error, code
):
    partner = await harness.partner(credits=100)
    assert_error(await _estimate(harness, partner, endpoint, body), status, error, code)


async def test_finalize_is_priced_only_for_a_ready_character(harness):
    partner = await harness.partner(credits=100)
    created = await harness.client.post(
        f"{API}/characters", json=CREATOR, headers=partner["headers"]
    )
    character = created.json()["character_id"]
    response = await _estimate(harness, partner, f"characters/{character}/finalize")
    assert_error(response, 400, "Character is not ready", "character_not_ready")


async def test_an_unknown_endpoint_lists_the_ones_that_can_be_priced(harness):
    partner = await harness.partner(credits=100)
    for endpoint in (None, "credits", "characters/1/finalize/x", 7):
        response = await harness.client.post(
            f"{API}/estimate",
            json={"endpoint": endpoint, "body": {}},
            headers=partner["headers"],
        )
        body = assert_error(response, 400, "Invalid endpoint", "invalid_endpoint")
        assert body["param"] == "endpoint"
        assert body["allowed"] == [
            "analyze",
            "generate-video",
            "characters",
            "characters/<id>/finalize",
        ]
    not_an_object = await _estimate(harness, partner, "analyze", ["https://tiktok.com"])
    assert assert_error(not_an_object, 400, "body must be a JSON object", "invalid_body")
