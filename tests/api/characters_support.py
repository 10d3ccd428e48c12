"""Helpers for the character contract tests: submit, run queued jobs here, wait for a status."""

from __future__ import annotations

import asyncio
from typing import Any

from knightvision.character.pipeline import (
    make_character_create_handler,
    make_character_finalize_handler,
)
from knightvision.character.service import CHARACTER_CREATE, CHARACTER_FINALIZE
from knightvision.video.pipeline import make_video_handler
from knightvision.video.service import VIDEO_JOB_KIND
from knightvision.worker.runner import WorkerRunner
from tests.conftest import API

CREATOR = {"name": "Sales Expert", "prompt": "A confident business person in a modern office"}


async def create_character(client: Any, headers: dict[str, str], **fields: Any) -> Any:
    return await client.post(f"{API}/characters", headers=headers, json={**CREATOR, **fields})


async def run_queued(harness: Any) -> None:
    """Run every queued character and video job to its end, in this task (a harness without workers)."""
    container = harness.container
    handlers = {
        CHARACTER_CREATE: make_character_create_handler(container.adapters, container.storage),
        CHARACTER_FINALIZE: make_character_finalize_handler(container.adapters, container.storage),
        VIDEO_JOB_KIND: make_video_handler(container.adapters, container.storage),
    }
    runner = WorkerRunner(
        container.queue, handlers, slots=1, poll_interval=0.1, worker_id="test-runner"
    )
    while (job := await container.queue.claim(runner.worker_id, list(handlers))) is not None:
        await runner.execute(job)


async def character(client: Any, headers: dict[str, str], character_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/characters/{character_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["character"]


async def wait_for(
    client: Any, headers: dict[str, str], character_id: int, *, leaving: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll until the character's status is no longer ``leaving``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await character(client, headers, character_id)
        if current["status"] != leaving or asyncio.get_running_loop().time() > deadline:
            return current
        await asyncio.sleep(0.05)


async def ready_character(harness: Any, headers: dict[str, str], **fields: Any) -> int:
    """A character that is ready (created and rendered), in a harness without workers."""
    response = await create_character(
        harness.client, headers, **{"duration": 4, "aspect_ratio": "1:1", **fields}
    )
    assert response.status_code == 200, response.text
    await run_queued(harness)
    character_id = response.json()["character_id"]
    assert (await character(harness.client, headers, character_id))["status"] == "ready"
    return character_id
