"""Ad analysis end to end through the HTTP API: cached sample ad → measured, transcribed,
written."""

from __future__ import annotations

import asyncio

from knightvision.account import admin
from knightvision.analysis.sample_ad import seed_sample_ad
from knightvision.api.schemas import AnalysisStatusRead, Submitted
from tests.fixtures.harness import API


async def _poll(harness, headers, job_id: str, *, seconds: float = 240) -> AnalysisStatusRead:
    statuses: list[str] = []
    for _ in range(int(seconds / 0.2)):
        body = (await harness.client.get(f"{API}/status/{job_id}", headers=headers)).json()
        status = AnalysisStatusRead.model_validate(body)
        if not statuses or statuses[-1] != status.status:
            statuses.append(status.status)
        if status.status in {"complete", "error"}:
            status.__dict__["seen"] = statuses
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"analysis did not finish; saw {statuses}")


async def test_the_contract_example_analyses_the_cached_sample_ad(live_harness) -> None:
    await asyncio.to_thread(seed_sample_ad, live_harness.settings.ad_cache_root)
    partner = await live_harness.partner(credits=1000)
    await admin.key_limits(
        live_harness.container.engine, partner["key_prefix"], {"status": 100_000}
    )
    submitted = await live_harness.client.post(
        f"{API}/analyze",
        headers=partner["headers"],
        json={"url": "https://www.facebook.com/ads/library/?id=123456789"},
    )
    job = Submitted.model_validate(submitted.json())
    assert (job.credits_used, job.credits_remaining) == (50, 950)

    final = await _poll(live_harness, partner["headers"], job.job_id)
    assert final.status == "complete", final
    assert final.__dict__["seen"][-1] == "complete" and final.progress == 100
    result = final.result.model_dump()
    for field in ("summary", "transcription", "analysis", "ugc_script"):
        assert isinstance(result[field], str) and result[field].strip()
    spoken = result["transcription"].lower()
    assert all(
        words in spoken
        for words in ("bitter coffee", "cold brew", "happy customers", "first box free")
    )
    metrics = result["metrics"]
    assert abs(metrics["duration_s"] - 14) < 0.2 and (metrics["width"], metrics["height"]) == (
        720,
        1280,
    )
    assert metrics["shot_count"] >= 3 and metrics["word_count"] >= 20
    assert any("coffee" in span["text"].lower() for span in metrics["on_screen_text"])
    assert (
        metrics["call_to_action"] is not None
        and "shop now" in metrics["call_to_action"]["text"].lower()
    )
    assert result["breakdown"]["hook"] and result["breakdown"]["scenes"]
    assert (
        result["engine"]["summary"].startswith("deterministic")
        and result["engine"]["transcription"] == "faster-whisper base"
    )
    assert len(result["ugc_script"]) <= 2000
    assert final.credits_refunded == 0

    again = await live_harness.client.post(
        f"{API}/analyze", headers=partner["headers"], json={"url": "123456789"}
    )
    second = await _poll(live_harness, partner["headers"], again.json()["job_id"])
    assert (
        second.status == "complete"
        and second.result.model_dump()["source"]["canonical_key"] == "facebook:123456789"
    )


async def test_analyze_validation_and_status_errors(harness) -> None:
    partner = await harness.partner(credits=100)
    headers = partner["headers"]
    cases = [
        ({}, "Please provide a URL"),
        ({"url": ""}, "Please provide a URL"),
        (
            {"url": "https://example.com/ad/1"},
            "Please provide a valid Facebook, Instagram, or TikTok URL",
        ),
        (
            {"url": "https://facebook.com.evil.io/ads/library/?id=1"},
            "Please provide a valid Facebook, Instagram, or TikTok URL",
        ),
    ]
    for body, message in cases:
        response = await harness.client.post(f"{API}/analyze", headers=headers, json=body)
        assert (response.status_code, response.json()["error"]) == (400, message)
    assert (await harness.client.post(f"{API}/analyze", headers=headers, content=b"[]")).json()[
        "error"
    ] == "Request body must be JSON"
    bad_id = await harness.client.get(f"{API}/status/local_20260101_000000_abcdef", headers=headers)
    assert (bad_id.status_code, bad_id.json()["error"]) == (400, "Invalid job ID")
    missing = await harness.client.get(f"{API}/status/20260101_000000_abcdef", headers=headers)
    assert (missing.status_code, missing.json()["error"]) == (404, "Job not found")

    poor = await harness.partner(credits=49)
    refused = await harness.client.post(
        f"{API}/analyze", headers=poor["headers"], json={"url": "123"}
    )
    assert refused.status_code == 402 and refused.json()["credits_required"] == 50

    accepted = await harness.client.post(f"{API}/analyze", headers=headers, json={"url": 987654321})
    assert accepted.status_code == 200 and accepted.json()["credits_remaining"] == 50
    other = await harness.partner(credits=100)
    foreign = await harness.client.get(
        f"{API}/status/{accepted.json()['job_id']}", headers=other["headers"]
    )
    assert (foreign.status_code, foreign.json()["error"]) == (404, "Job not found")
    mine = (
        await harness.client.get(f"{API}/status/{accepted.json()['job_id']}", headers=headers)
    ).json()
    assert (mine["status"], mine["platform"], "result" not in mine) == ("queued", "facebook", True)
