"""Every response of a real video flow satisfies the wire schemas pinned to the contract (D1)."""

from __future__ import annotations

import asyncio

from knightvision.account import admin
from knightvision.api.schemas import (
    CreditsRead,
    ErrorBody,
    Health,
    Submitted,
    VideosRead,
    VideoStatusRead,
)
from tests.fixtures.harness import API


async def test_a_video_flow_matches_the_wire_schemas(live_harness) -> None:
    partner = await live_harness.partner(credits=100)
    await admin.key_limits(
        live_harness.container.engine, partner["key_prefix"], {"video_status": 10_000}
    )
    client, headers = live_harness.client, partner["headers"]

    submitted = await client.post(
        f"{API}/generate-video",
        headers=headers,
        json={
            "prompt": "A robot waters a garden. Flowers bloom.",
            "model": "local-storyboard",
            "duration": 2,
            "aspect_ratio": "1:1",
        },
    )
    job = Submitted.model_validate(submitted.json())
    assert (job.credits_used, job.credits_remaining) == (2, 98)

    for _ in range(600):
        status = VideoStatusRead.model_validate(
            (await client.get(f"{API}/video-status/{job.job_id}", headers=headers)).json()
        )
        if status.status in {"complete", "error"}:
            break
        assert status.video_url is None
        await asyncio.sleep(0.1)
    assert status.status == "complete", status
    assert status.video_url.endswith(f"/static/videos/{job.job_id}.mp4") and (
        status.width,
        status.height,
    ) == (720, 720)
    assert (
        status.progress == 100 and status.finished_at is not None and status.credits_refunded == 0
    )

    listed = VideosRead.model_validate((await client.get(f"{API}/videos", headers=headers)).json())
    assert [(v.job_id, v.status, v.video_url) for v in listed.videos] == [
        (job.job_id, "complete", status.video_url)
    ]
    credits = CreditsRead.model_validate(
        (await client.get(f"{API}/credits", headers=headers)).json()
    )
    assert credits.credits_remaining == 98

    video = await client.get(status.video_url.replace(live_harness.settings.base_url, ""))
    assert (
        video.status_code == 200
        and video.headers["content-type"] == "video/mp4"
        and video.content[4:8] == b"ftyp"
    )

    missing = await client.get(f"{API}/video-status/local_20260101_000000_zzzzzz", headers=headers)
    assert ErrorBody.model_validate(missing.json()).code == "job_not_found"
    assert Health.model_validate((await client.get("/healthz")).json()).status == "ok"


async def test_openapi_documents_every_partner_operation(harness) -> None:
    spec = (await harness.client.get("/openapi.json")).json()
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"get_credits", "generate_video", "get_video_status", "list_videos"} <= operations
    create = spec["paths"][f"{API}/generate-video"]["post"]
    assert (
        create["requestBody"]["content"]["application/json"]["schema"]["properties"]["prompt"][
            "maxLength"
        ]
        == 2000
    )
    assert {"400", "401", "402", "403", "429", "500"} <= set(create["responses"])
