"""``POST /api/v1/partner/jobs/<id>/cancel`` at each stage of a job, through the HTTP API with
real workers: queued (at once, full refund), rendering (stops at the next frame, full refund),
analysing (stops at the stage boundary, full refund), finished (409), someone else's (404),
twice (the same answer). The parked upstream wait is in tests/worker/test_cancel_parked.py."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from knightvision.account import admin
from knightvision.analysis.sample_ad import seed_sample_ad
from knightvision.api.schemas import AnalysisStatusRead, VideoStatusRead
from knightvision.credit import ledger
from tests.fixtures.harness import API, Harness
from tests.fixtures.partner_api import local


async def _partner(harness: Harness, credits: int = 1000) -> dict[str, Any]:
    partner = await harness.partner(credits=credits)
    limits = {"status": 100_000, "video_status": 100_000, "cancel": 100_000}
    await admin.key_limits(harness.container.engine, partner["key_prefix"], limits)
    return partner


async def _balance(harness: Harness, account_id: int) -> int:
    async with harness.container.engine.connect() as conn:
        return await ledger.balance(conn, account_id)


async def _cancel(harness: Harness, partner: dict[str, Any], job_id: str) -> Any:
    return await harness.client.post(f"{API}/jobs/{job_id}/cancel", headers=partner["headers"])


async def _wait(harness: Harness, partner: dict[str, Any], path: str, done: Any) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        body = (await harness.client.get(f"{API}/{path}", headers=partner["headers"])).json()
        if done(body):
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out on {path}: {body}")


def _assert_cancelled(view: dict, *, refunded: int) -> None:
    assert (view["status"], view["error_code"]) == ("error", "cancelled"), view
    assert view["credits_refunded"] == refunded and view["upstream_billed"] is False, view
    assert view["retryable"] is False and view["finished_at"]


async def test_a_queued_job_is_cancelled_at_once_with_a_full_refund(harness: Harness) -> None:
    partner, other = await _partner(harness), await _partner(harness)
    video = (
        await harness.client.post(
            f"{API}/generate-video", headers=partner["headers"], json=local(duration=5)
        )
    ).json()
    analysis = (
        await harness.client.post(f"{API}/analyze", headers=partner["headers"], json={"url": "1"})
    ).json()
    assert await _balance(harness, partner["account_id"]) == 1000 - 5 - 50

    assert (await _cancel(harness, other, video["job_id"])).status_code == 404  # not theirs
    cancelled = await _cancel(harness, partner, video["job_id"])
    assert cancelled.status_code == 200, cancelled.text
    view = VideoStatusRead.model_validate(cancelled.json()).model_dump(exclude_none=True)
    _assert_cancelled(view, refunded=5)
    assert view["message"] == view["error"] == "The job was cancelled"
    again = await _cancel(harness, partner, video["job_id"])  # idempotent
    assert again.status_code == 200
    assert {**again.json(), "request_id": ""} == {**cancelled.json(), "request_id": ""}
    status = await harness.client.get(
        f"{API}/video-status/{video['job_id']}", headers=partner["headers"]
    )
    assert {**status.json(), "request_id": ""} == {**cancelled.json(), "request_id": ""}

    analysed = await _cancel(harness, partner, analysis["job_id"])
    AnalysisStatusRead.model_validate(analysed.json())
    _assert_cancelled(analysed.json(), refunded=50)
    assert await _balance(harness, partner["account_id"]) == 1000  # refunded once each

    # Each cancelled job has its terminal event, once, with the job as it ended.
    events = (await harness.client.get(f"{API}/events", headers=partner["headers"])).json()
    assert [(e["type"], e["data"]["job_id"]) for e in events["events"]] == [
        ("video.failed", video["job_id"]),
        ("analysis.failed", analysis["job_id"]),
    ]
    assert events["events"][0]["data"]["error_code"] == "cancelled"


async def test_malformed_and_unknown_ids(harness: Harness) -> None:
    partner = await _partner(harness)
    bad = await _cancel(harness, partner, "not-a-job")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_job_id")
    missing = await _cancel(harness, partner, "local_20260323_141500_abc123")
    assert (missing.status_code, missing.json()["code"]) == (404, "job_not_found")


async def test_a_rendering_job_stops_at_the_next_frame_with_a_full_refund(
    live_harness: Harness,
) -> None:
    partner = await _partner(live_harness)
    job_id = (
        await live_harness.client.post(
            f"{API}/generate-video", headers=partner["headers"], json=local(duration=30)
        )
    ).json()["job_id"]
    await _wait(
        live_harness, partner, f"video-status/{job_id}", lambda s: s.get("progress", 0) >= 10
    )

    asked = await _cancel(live_harness, partner, job_id)
    assert asked.status_code == 200 and asked.json()["status"] == "processing"  # stops soon
    final = await _wait(
        live_harness, partner, f"video-status/{job_id}", lambda s: s["status"] != "processing"
    )
    _assert_cancelled(final, refunded=30)
    assert final["progress"] < 90  # stopped mid-render, not let run to the end
    assert await _balance(live_harness, partner["account_id"]) == 1000
    videos = Path(live_harness.settings.data_dir) / "media" / "videos"
    assert not (videos / f"{job_id}.mp4").exists()


async def test_an_analysis_stops_at_the_stage_boundary_with_a_full_refund(
    live_harness: Harness,
) -> None:
    await asyncio.to_thread(seed_sample_ad, live_harness.settings.ad_cache_root)
    partner = await _partner(live_harness)
    job_id = (
        await live_harness.client.post(
            f"{API}/analyze", headers=partner["headers"], json={"url": "123456789"}
        )
    ).json()["job_id"]
    await _wait(
        live_harness,
        partner,
        f"status/{job_id}",
        lambda s: s["status"] in {"extracting_frames", "transcribing", "analyzing"},
    )

    assert (await _cancel(live_harness, partner, job_id)).status_code == 200
    final = await _wait(
        live_harness, partner, f"status/{job_id}", lambda s: s.get("finished_at") is not None
    )
    _assert_cancelled(final, refunded=50)
    assert "result" not in final
    assert await _balance(live_harness, partner["account_id"]) == 1000


async def test_a_finished_job_is_not_cancelled(live_harness: Harness) -> None:
    partner = await _partner(live_harness)
    job_id = (
        await live_harness.client.post(
            f"{API}/generate-video", headers=partner["headers"], json=local(duration=1)
        )
    ).json()["job_id"]
    await _wait(
        live_harness, partner, f"video-status/{job_id}", lambda s: s["status"] == "complete"
    )
    refused = await _cancel(live_harness, partner, job_id)
    assert (refused.status_code, refused.json()["code"]) == (409, "job_finished")
    assert await _balance(live_harness, partner["account_id"]) == 999
