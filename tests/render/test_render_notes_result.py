"""A video job's status reports the caption characters no bundled font could draw."""

from __future__ import annotations

import asyncio

from knightvision.account import admin
from knightvision.api.schemas import VideoStatusRead
from tests.fixtures.harness import API


async def _finished_status(harness, headers, prompt: str) -> dict:
    submitted = await harness.client.post(
        f"{API}/generate-video",
        headers=headers,
        json={"prompt": prompt, "model": "local-storyboard", "duration": 1, "aspect_ratio": "1:1"},
    )
    assert submitted.status_code == 200, submitted.text
    job_id = submitted.json()["job_id"]
    for _ in range(600):
        status = (await harness.client.get(f"{API}/video-status/{job_id}", headers=headers)).json()
        if status["status"] in {"complete", "error"}:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the video job did not finish")


async def test_undrawable_characters_are_reported_and_a_clean_prompt_has_no_notes(live_harness):
    partner = await live_harness.partner(credits=10)
    await admin.key_limits(
        live_harness.container.engine, partner["key_prefix"], {"video_status": 10_000}
    )
    headers = partner["headers"]

    boxed = await _finished_status(live_harness, headers, "Sale \ue000 today \U000f0001 日本 🚀")
    assert boxed["status"] == "complete", boxed
    VideoStatusRead.model_validate(boxed)
    assert boxed["render_notes"] == {"undrawable_characters": ["\ue000", "\U000f0001"]}

    # every script drawn, but not one our English voice can read: shown, and said to be unspoken
    unspoken = await _finished_status(live_harness, headers, "Привет 日本 مرحبا 🚀")
    assert unspoken["status"] == "complete", unspoken
    VideoStatusRead.model_validate(unspoken)
    assert unspoken["render_notes"] == {"unspoken_text": ["Привет 日本 مرحبا 🚀"]}

    clean = await _finished_status(live_harness, headers, "Café 🚀 open late")
    assert clean["status"] == "complete", clean
    assert "render_notes" not in clean
