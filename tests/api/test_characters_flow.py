"""Characters end to end on local-storyboard through the HTTP API, with real workers (D16):
create -> ready -> finalize -> finalized -> in a video whose frames show the character; and a
finalize that fails is refunded and leaves the character ready (D11, D13)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import numpy as np

from knightvision.account import admin
from knightvision.api.schemas import CharacterRead, CharactersRead
from knightvision.character.service import character_video_key
from knightvision.media.probe import probe
from knightvision.render import plan_scenes
from knightvision.render.presenter.live import LivePresenter
from knightvision.render.roles import Role
from knightvision.render.scenes.presenter import presenter_boxes
from tests.fixtures.characters import create_character, wait_for
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_no_nulls, balance_of, generate, ledger_total
from tests.fixtures.render_probe import decode_frames


async def _video(harness, headers, body) -> dict:
    response = await generate(harness.client, headers, body)
    assert response.status_code == 200, response.text
    job_id = response.json()["job_id"]
    for _ in range(1200):
        status = (await harness.client.get(f"{API}/video-status/{job_id}", headers=headers)).json()
        if status["status"] in ("complete", "error"):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(status)


async def test_character_from_prompt_to_video(live_harness) -> None:
    harness = live_harness
    partner = await harness.partner(credits=100)
    await admin.key_limits(
        harness.container.engine,
        partner["key_prefix"],
        {"character": 100_000, "video_status": 100_000},
    )
    headers = partner["headers"]

    created = await create_character(
        harness.client,
        headers,
        name="Sunny Host",
        prompt="A cheerful host in a bright yellow sweater on the beach",
        duration=4,
        aspect_ratio="1:1",
    )
    character_id = created.json()["character_id"]
    ready = CharacterRead.model_validate(
        {
            "request_id": "0" * 12,
            "character": await wait_for(
                harness.client, headers, character_id, leaving="processing"
            ),
        }
    ).character
    assert (
        ready.status == "ready"
        and ready.duration == 4
        and (ready.width, ready.height) == (720, 720)
    ), ready
    assert ready.video_url and ready.video_url.startswith(
        f"{harness.settings.base_url}/static/characters/"
    )

    # The character video is public at its permanent URL, byte ranges and all (D2, D13).
    path = ready.video_url.removeprefix(harness.settings.base_url)
    video = await harness.client.get(path)
    assert (
        video.status_code == 200
        and video.headers["content-type"] == "video/mp4"
        and video.content[4:8] == b"ftyp"
    )
    assert (await harness.client.get(path, headers={"Range": "bytes=0-9"})).status_code == 206
    assert (
        await harness.client.get("/static/characters/0123456789abcdef01234567.mp4")
    ).status_code == 404
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "c.mp4").write_bytes(video.content)
        info = probe(Path(scratch) / "c.mp4")
    assert (info.width, info.height) == (720, 720) and abs(info.duration - 4) <= 0.1

    finalize = await harness.client.post(
        f"{API}/characters/{character_id}/finalize",
        headers=headers,
        json={"timestamp_start": 0, "timestamp_end": 3},
    )
    assert finalize.json()["status"] == "finalizing", finalize.text
    finalized = await wait_for(harness.client, headers, character_id, leaving="finalizing")
    assert finalized["status"] == "finalized", finalized
    assert (
        finalized["finalize"]["timestamp_start"] == 0
        and finalized["finalize"]["credits_refunded"] == 0
    )
    assert_no_nulls(finalized)

    status = await _video(
        harness,
        headers,
        {
            "prompt": "@sunny host welcomes you. Enjoy the sun!",
            "model": "local-storyboard",
            "duration": 2,
            "aspect_ratio": "1:1",
        },
    )
    assert status["status"] == "complete", status
    rendered = harness.container.storage.fetch(f"videos/{status['job_id']}.mp4")
    frame = decode_frames(rendered, {20})[20].astype(np.int16)

    # A character our presenter renderer made is drawn live in the storyboard (D16): its figure
    # stands where the hook puts a presenter, in the prompt's yellow sweater, eyes open.
    scene = plan_scenes("Sunny Host welcomes you. Enjoy the sun!", 2, 30)[0]
    assert scene.role is Role.HOOK and scene.end_frame > 20
    (box,) = presenter_boxes(Role.HOOK, 720, 720, 1)
    figure = LivePresenter("A cheerful host in a bright yellow sweater on the beach", box, 60, 30)
    sweater = np.array(figure.look.clothing)
    assert (
        sweater[0] > 200 and sweater[1] > 180 and sweater[2] < 120
    )  # the prompt's yellow sweater...

    def share(pixels: np.ndarray, colour: np.ndarray) -> float:
        return float((np.abs(pixels.reshape(-1, 3) - colour).max(axis=1) < 40).mean())

    x0, y0, x1, y1 = (round(v) for v in figure.face_box(20))
    assert share(frame[y1:], sweater) > 0.2 > share(frame[:y0], sweater)  # ...under the face
    assert share(frame[y0:y1, x0:x1], np.array(figure.look.skin)) > 0.3
    assert figure.eyes_open(20)
    eyes = frame[y0 + (y1 - y0) * 35 // 100 : y0 + (y1 - y0) * 55 // 100, x0:x1]
    assert (eyes.min(axis=2) > 225).sum() > 30  # the whites of open eyes

    listed = CharactersRead.model_validate(
        (await harness.client.get(f"{API}/characters", headers=headers)).json()
    )
    assert [(c.id, c.status) for c in listed.characters] == [(character_id, "finalized")]
    assert await balance_of(harness, partner["account_id"]) == 100 - 22 - 3 - 2
    assert await ledger_total(harness, partner["account_id"]) == 100 - 22 - 3 - 2
    videos = (await harness.client.get(f"{API}/videos", headers=headers)).json()["videos"]
    assert [v["job_id"] for v in videos] == [
        status["job_id"]
    ]  # character videos are not listed there (D13)


async def test_failed_finalize_is_refunded_and_character_stays_ready(live_harness) -> None:
    harness = live_harness
    partner = await harness.partner(credits=100)
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"character": 100_000})
    headers = partner["headers"]
    character_id = (
        await create_character(harness.client, headers, duration=4, aspect_ratio="16:9")
    ).json()["character_id"]
    ready = await wait_for(harness.client, headers, character_id, leaving="processing")
    assert ready["status"] == "ready"

    # The stored character video disappears (an operator's mistake, a lost disk): the cut fails.
    token = ready["video_url"].rsplit("/", 1)[1].removesuffix(".mp4")
    harness.container.storage.delete(character_video_key(token))
    response = await harness.client.post(
        f"{API}/characters/{character_id}/finalize", headers=headers
    )
    assert response.json()["credits_remaining"] == 100 - 22 - 3
    after = await wait_for(harness.client, headers, character_id, leaving="finalizing")
    assert after["status"] == "ready", after
    assert (after["error_code"], after["failed_stage"], after["retryable"]) == (
        "character_video_missing",
        "extracting",
        False,
    )
    assert after["error"] == "The character video is no longer available"
    assert after["finalize"]["status"] == "failed" and after["finalize"]["credits_refunded"] == 3
    assert await balance_of(harness, partner["account_id"]) == 100 - 22
    assert await ledger_total(harness, partner["account_id"]) == 100 - 22
    assert_no_nulls(after)
