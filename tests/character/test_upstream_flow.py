"""Characters on an upstream character route, through the HTTP API with real workers (D16): kie
(Sora render, then ``sora-2-characters-pro`` from that task) and OpenAI (Sora render, then the cut
segment uploaded), each used in a video on its own route; and every failure refunded (D11)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from knightvision.account import admin
from tests.fakes.kie import FakeKie
from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fakes.upstream import Canned
from tests.fixtures.characters import create_character, wait_for
from tests.fixtures.harness import API, running_harness
from tests.fixtures.partner_api import assert_error, balance_of, generate, ledger_total

QUICK_POLLS = {
    "upstream_poll_interval_seconds": 0.02,
    "upstream_poll_max_interval_seconds": 0.05,
    "poll_interval_seconds": 0.05,
}


@pytest.fixture
async def on_kie(settings_factory, kie: FakeKie) -> AsyncIterator[Any]:
    settings = settings_factory(
        character_route={"adapter": "kie"},
        kie_api_key=kie.api_key,
        kie_base_url=kie.url,
        models={"sora-2-pro": {"adapter": "kie"}, "sora-2": {"adapter": "openai"}},
        openai_api_key="sk-unused",
        **QUICK_POLLS,
    )
    async with running_harness(settings, run_workers=True) as harness:
        yield harness


@pytest.fixture
async def on_openai(settings_factory, openai_fake: FakeOpenAIVideos) -> AsyncIterator[Any]:
    settings = settings_factory(
        character_route={"adapter": "openai"},
        openai_api_key=openai_fake.api_key,
        openai_base_url=openai_fake.base_url,
        models={"sora-2": {"adapter": "openai"}},
        **QUICK_POLLS,
    )
    async with running_harness(settings, run_workers=True) as harness:
        yield harness


async def _partner(harness: Any, credits: int = 1000) -> dict[str, Any]:
    partner = await harness.partner(credits=credits)
    await admin.key_limits(
        harness.container.engine,
        partner["key_prefix"],
        {"character": 100_000, "video_status": 100_000},
    )
    return partner


async def _video(harness: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await generate(harness.client, headers, body)
    assert response.status_code == 200, response.text
    for _ in range(600):
        status = (
            await harness.client.get(
                f"{API}/video-status/{response.json()['job_id']}", headers=headers
            )
        ).json()
        if status["status"] in ("complete", "error"):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(status)


async def test_kie_character_flow(on_kie, kie: FakeKie) -> None:
    partner = await _partner(on_kie)
    headers = partner["headers"]
    created = await create_character(on_kie.client, headers)  # defaults: 10 s, 9:16
    character_id = created.json()["character_id"]
    ready = await wait_for(on_kie.client, headers, character_id, leaving="processing")
    assert ready["status"] == "ready" and (ready["width"], ready["height"], ready["duration"]) == (
        720,
        1280,
        10,
    ), ready
    render = kie.requests_to("createTask")[0]["json"]
    assert render["model"] == "sora-2-text-to-video" and render["input"]["n_frames"] == "10"
    origin = next(iter(kie.tasks))

    response = await on_kie.client.post(
        f"{API}/characters/{character_id}/finalize",
        headers=headers,
        json={"timestamp_start": 2, "timestamp_end": 5},
    )
    assert response.status_code == 200, response.text
    finalized = await wait_for(on_kie.client, headers, character_id, leaving="finalizing")
    assert finalized["status"] == "finalized", finalized
    registration = kie.requests_to("createTask")[1]["json"]
    assert registration["model"] == "sora-2-characters-pro"
    assert (registration["input"]["origin_task_id"], registration["input"]["timestamps"]) == (
        origin,
        "2,5",
    )
    assert registration["input"]["character_user_name"].startswith("sales_expert_")
    ((kie_id, handle),) = kie.characters.items()

    status = await _video(
        on_kie,
        headers,
        {"prompt": "@Sales Expert pitches our app.", "model": "sora-2-pro", "duration": 15},
    )
    assert status["status"] == "complete", status
    sent = kie.requests_to("createTask")[-1]["json"]
    assert (
        sent["input"]["character_id_list"] == [kie_id]
        and sent["input"]["prompt"] == f"@{handle} pitches our app."
    )
    by_id = await _video(
        on_kie,
        headers,
        {
            "prompt": "A product demo.",
            "model": "sora-2-pro",
            "duration": 15,
            "character_ids": [character_id],
        },
    )
    assert by_id["status"] == "complete"
    assert (
        kie.requests_to("createTask")[-1]["json"]["input"]["prompt"]
        == f"Featuring @{handle}. A product demo."
    )
    # Our renderer can use it too (its reference stills); a route it is not registered with cannot.
    assert (
        await _video(
            on_kie,
            headers,
            {"prompt": "@Sales Expert waves", "model": "local-storyboard", "duration": 1},
        )
    )["status"] == "complete"
    balance = await balance_of(on_kie, partner["account_id"])
    refused = await generate(
        on_kie.client, headers, {"prompt": "@Sales Expert waves", "model": "sora-2"}
    )
    assert_error(
        refused, 400, "Characters are not available for this model", "characters_unsupported"
    )
    storyboard = await generate(
        on_kie.client,
        headers,
        {"prompt": "@Sales Expert waves", "model": "sora-2-pro", "duration": 25},
    )
    assert_error(
        storyboard, 400, "Characters are not available for this model", "characters_unsupported"
    )
    assert (
        await balance_of(on_kie, partner["account_id"]) == balance == 1000 - 22 - 3 - 154 - 154 - 1
    )


async def test_kie_failures_are_refunded(on_kie, kie: FakeKie) -> None:
    partner = await _partner(on_kie)
    headers = partner["headers"]
    kie.script.outcome, kie.script.failure = "failed", {"code": "422", "message": "prompt rejected"}
    failed_id = (await create_character(on_kie.client, headers, name="Doomed")).json()[
        "character_id"
    ]
    failed = await wait_for(on_kie.client, headers, failed_id, leaving="processing")
    assert (failed["status"], failed["error_code"], failed["credits_refunded"]) == (
        "failed",
        "upstream_rejected",
        22,
    ), failed
    assert "video_url" not in failed and "duration" not in failed
    assert_error(
        await on_kie.client.post(f"{API}/characters/{failed_id}/finalize", headers=headers),
        400,
        "Character is not ready",
        "character_not_ready",
    )

    kie.script.outcome = "success"
    character_id = (
        await create_character(on_kie.client, headers, duration=15, aspect_ratio="1:1")
    ).json()["character_id"]
    assert (await wait_for(on_kie.client, headers, character_id, leaving="processing"))[
        "status"
    ] == "ready"
    kie.script.create_responses = [Canned(200, {"code": 422, "msg": "origin_task_id is invalid"})]
    await on_kie.client.post(f"{API}/characters/{character_id}/finalize", headers=headers)
    after = await wait_for(on_kie.client, headers, character_id, leaving="finalizing")
    assert (after["status"], after["error_code"], after["failed_stage"]) == (
        "ready",
        "upstream_rejected",
        "registering",
    ), after
    assert after["finalize"]["credits_refunded"] == 3
    assert (
        await balance_of(on_kie, partner["account_id"])
        == await ledger_total(on_kie, partner["account_id"])
        == 1000 - 22
    )

    # kie takes 1-4 s segments only: refused before any charge.
    assert_error(
        await on_kie.client.post(
            f"{API}/characters/{character_id}/finalize",
            headers=headers,
            json={"timestamp_start": 0, "timestamp_end": 5},
        ),
        400,
        "Invalid timestamps",
        "invalid_timestamps",
    )
    # the retry after the failure works, and charges once more
    await on_kie.client.post(f"{API}/characters/{character_id}/finalize", headers=headers)
    assert (await wait_for(on_kie.client, headers, character_id, leaving="finalizing"))[
        "status"
    ] == "finalized"
    assert await balance_of(on_kie, partner["account_id"]) == 1000 - 22 - 3


async def test_openai_character_flow(on_openai, openai_fake: FakeOpenAIVideos) -> None:
    partner = await _partner(on_openai)
    headers = partner["headers"]
    # OpenAI renders 8 s natively; 1:1 is cropped from 16:9 (a declared transform)
    character_id = (
        await create_character(
            on_openai.client, headers, name="Nova", duration=8, aspect_ratio="1:1"
        )
    ).json()["character_id"]
    ready = await wait_for(on_openai.client, headers, character_id, leaving="processing")
    assert ready["status"] == "ready" and (ready["width"], ready["height"]) == (720, 720), ready
    # OpenAI asks for 2-4 s clips
    assert_error(
        await on_openai.client.post(
            f"{API}/characters/{character_id}/finalize",
            headers=headers,
            json={"timestamp_start": 3, "timestamp_end": 4},
        ),
        400,
        "Timestamps must span 2 to 4 seconds for this character route",
        "invalid_timestamps",
    )

    await on_openai.client.post(f"{API}/characters/{character_id}/finalize", headers=headers)
    finalized = await wait_for(on_openai.client, headers, character_id, leaving="finalizing")
    assert finalized["status"] == "finalized", finalized
    assert openai_fake.uploads == [
        {
            "name": "Nova",
            "seconds": 3.0,
            "width": 720,
            "height": 720,
            "bytes": openai_fake.uploads[0]["bytes"],
        }
    ]
    (openai_id,) = openai_fake.characters

    status = await _video(
        on_openai,
        headers,
        {
            "prompt": "@nova explores Mars.",
            "model": "sora-2",
            "duration": 10,
            "aspect_ratio": "16:9",
        },
    )
    assert status["status"] == "complete", status
    sent = openai_fake.requests_to("/v1/videos", "POST")[-1]["json"]
    assert sent["characters"] == [{"id": openai_id}] and sent["prompt"] == "Nova explores Mars."

    # A failed upload is refunded and the character is ready again.
    other = (await create_character(on_openai.client, headers, name="Orbit", duration=8)).json()[
        "character_id"
    ]
    assert (await wait_for(on_openai.client, headers, other, leaving="processing"))[
        "status"
    ] == "ready"
    openai_fake.script.create_responses = [
        Canned(
            400,
            {
                "error": {
                    "message": "human likeness is not allowed",
                    "type": "invalid_request_error",
                    "code": None,
                }
            },
        )
    ]
    await on_openai.client.post(f"{API}/characters/{other}/finalize", headers=headers)
    after = await wait_for(on_openai.client, headers, other, leaving="finalizing")
    assert (after["status"], after["error_code"], after["finalize"]["credits_refunded"]) == (
        "ready",
        "upstream_rejected",
        3,
    ), after
    assert await balance_of(on_openai, partner["account_id"]) == 1000 - 22 - 3 - 22 - 22
