"""Typed job params: what each service writes is what its pipeline reads, through one definition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from knightvision.account import admin
from knightvision.analysis.params import AnalysisJobParams, analysis_params
from knightvision.character.params import (
    CharacterCreateParams,
    CharacterFinalizeParams,
    create_params,
    finalize_params,
)
from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.db.schema import jobs
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.settings import Settings
from knightvision.video.params import VideoJobParams, video_params
from tests.fixtures.harness import API, Harness

VIDEO: VideoJobParams = {
    "prompt": "@Sam shows the new phone",
    "model": "local-storyboard",
    "duration": 10,
    "aspect_ratio": "9:16",
    "resolution": "720p",
    "width": 720,
    "height": 1280,
    "adapter": "local-storyboard",
    "upstream_model": None,
    "characters": [
        {
            "id": 3,
            "name": "Sam",
            "adapter": "kie",
            "reference_keys": ["characters/abc/j1/reference_0.png"],
            "upstream_id": "char-9",
            "handle": "sam_abcdef12",
        },
        {"id": 4, "name": "Ana", "adapter": "local-storyboard", "reference_keys": []},
    ],
    "render_prompt": "Sam shows the new phone",
    "style": "calm",
}
ANALYSIS: AnalysisJobParams = {
    "url": "https://www.facebook.com/ads/library/?id=123456789",
    "platform": "facebook",
    "canonical_key": "facebook:123456789",
    "submitted_url": " https://www.facebook.com/ads/library/?id=123456789",
}
CREATE: CharacterCreateParams = {
    "character_id": 1,
    "public_token": "abcdef123456abcdef123456",
    "name": "Sales Expert",
    "prompt": "A confident business person",
    "duration": 10,
    "aspect_ratio": "9:16",
    "width": 720,
    "height": 1280,
    "adapter": "kie",
    "upstream_model": "sora-2",
}
FINALIZE: CharacterFinalizeParams = {
    "character_id": 1,
    "public_token": "abcdef123456abcdef123456",
    "name": "Sales Expert",
    "prompt": "A confident business person",
    "duration": 10,
    "adapter": "kie",
    "upstream_model": "sora-2",
    "origin_task_id": None,
    "video_url": "http://localhost:8000/static/characters/abcdef123456abcdef123456.mp4",
    "handle": "sales_expert_abcdef12",
    "timestamp_start": 1,
    "timestamp_end": 4,
    "character_prompt": "Speaks calmly",
}


@pytest.mark.parametrize(
    ("kind", "params", "read"),
    [
        pytest.param("video.generate", VIDEO, video_params, id="video.generate"),
        pytest.param("analysis.run", ANALYSIS, analysis_params, id="analysis.run"),
        pytest.param("character.create", CREATE, create_params, id="character.create"),
        pytest.param("character.finalize", FINALIZE, finalize_params, id="character.finalize"),
    ],
)
async def test_params_read_back_as_written_after_the_database(
    backend_url: str,
    kind: str,
    params: Mapping[str, Any],
    read: Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> None:
    async_url = Settings(database_url=backend_url).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    try:
        queue = JobQueue(engine, QueuePolicy())
        account = await admin.create_account(engine, f"acct-{new_job_id(utcnow())}", 100)
        await queue.submit_paid(
            job_id=new_job_id(utcnow(), "local"),
            account_id=account["account_id"],
            kind=kind,
            params=params,
            cost=1,
            reason="test",
        )
        job = await queue.claim("test-worker", [kind])
        assert job is not None
        assert read(job.params) == params
    finally:
        await engine.dispose()


async def _stored_params(harness: Harness, job_id: str) -> dict[str, Any]:
    async with harness.container.engine.connect() as conn:
        stored: dict[str, Any] = await conn.scalar(select(jobs.c.params).where(jobs.c.id == job_id))
    return stored


def _keys(typed: type) -> set[str]:
    return set(typed.__annotations__)


async def test_video_submit_writes_exactly_the_typed_params(harness: Harness) -> None:
    partner = await harness.partner()
    response = await harness.client.post(
        f"{API}/generate-video",
        headers=partner["headers"],
        json={"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 10},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"
    params = video_params(await _stored_params(harness, response.json()["job_id"]))
    optional = {"characters", "render_prompt", "brand_color", "style", "test_mode"}
    assert set(params) == _keys(VideoJobParams) - optional
    assert (params["prompt"], params["model"], params["adapter"]) == (
        "A lighthouse at dusk",
        "local-storyboard",
        "local-storyboard",
    )
    assert (params["width"], params["height"], params["duration"]) == (720, 1280, 10)


async def test_a_chosen_music_style_is_written_to_the_params(harness: Harness) -> None:
    partner = await harness.partner()
    response = await harness.client.post(
        f"{API}/generate-video",
        headers=partner["headers"],
        json={"prompt": "A lighthouse at dusk", "model": "local-storyboard", "style": "calm"},
    )
    assert response.status_code == 200, response.text
    params = video_params(await _stored_params(harness, response.json()["job_id"]))
    assert params.get("style") == "calm"


async def test_analysis_submit_writes_exactly_the_typed_params(harness: Harness) -> None:
    partner = await harness.partner()
    response = await harness.client.post(
        f"{API}/analyze",
        headers=partner["headers"],
        json={"url": " https://www.facebook.com/ads/library/?id=123456789 "},
    )
    assert response.status_code == 200, response.text
    params = analysis_params(await _stored_params(harness, response.json()["job_id"]))
    assert set(params) == _keys(AnalysisJobParams) - {"test_mode"}  # a live key's job
    assert (params["platform"], params["submitted_url"]) == (
        "facebook",
        "https://www.facebook.com/ads/library/?id=123456789",
    )


async def test_character_create_writes_exactly_the_typed_params(
    harness: Harness, tmp_path: Path
) -> None:
    partner = await harness.partner()
    response = await harness.client.post(
        f"{API}/characters",
        headers=partner["headers"],
        json={"name": "Sales Expert", "prompt": "A confident business person"},
    )
    assert response.status_code == 200, response.text
    async with harness.container.engine.connect() as conn:
        job_id = await conn.scalar(
            select(jobs.c.id).where(
                jobs.c.account_id == partner["account_id"], jobs.c.kind == "character.create"
            )
        )
    params = create_params(await _stored_params(harness, job_id))
    assert set(params) == _keys(CharacterCreateParams)
    assert (params["character_id"], params["name"]) == (
        response.json()["character_id"],
        "Sales Expert",
    )
