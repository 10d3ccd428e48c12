"""Test-mode keys (``kv_partner_test_…``, an addition): the same API, a separate test balance that
never touches the live pool, and jobs that run on the offline engines whatever the model, marked
``test_mode`` and never calling an upstream."""

from __future__ import annotations

import av
import pytest

from knightvision.account import admin
from knightvision.errors import OperatorError
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.characters import run_queued
from tests.fixtures.harness import API, running_harness
from tests.fixtures.partner_api import balance_of, local


async def _test_key(harness, account: str, credits: int = 500) -> dict:
    created = await admin.create_test_key(harness.container.engine, account, credits)
    return {**created, "headers": {"Authorization": f"Bearer {created['api_key']}"}}


async def _credits(harness, headers) -> int:
    response = await harness.client.get(f"{API}/credits", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["credits_remaining"]


async def test_a_test_key_spends_its_own_balance_never_the_live_pool(harness):
    live = await harness.partner(credits=100)
    test = await _test_key(harness, live["account"], credits=500)
    assert test["api_key"].startswith("kv_partner_test_")
    assert test["key_prefix"].startswith("kv_partner_test_") and test["credits"] == 500

    submitted = await harness.client.post(
        f"{API}/generate-video", json=local(duration=10), headers=test["headers"]
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["credits_remaining"] == 490
    assert await _credits(harness, test["headers"]) == 490
    assert await _credits(harness, live["headers"]) == 100
    assert await balance_of(harness, live["account_id"]) == 100

    job = submitted.json()["job_id"]
    live_view = await harness.client.get(f"{API}/video-status/{job}", headers=live["headers"])
    assert live_view.status_code == 404  # the live and test worlds do not see each other
    live_list = await harness.client.get(f"{API}/videos", headers=live["headers"])
    assert live_list.json()["videos"] == []

    again = await _test_key(harness, live["account"], credits=999)
    assert again["account"] == test["account"] and again["credits"] == 490  # one test balance


async def test_an_upstream_model_is_rendered_here_in_its_shape_and_marked(make_harness, evolink):
    harness = await make_harness(evolink_api_key=evolink.api_key, evolink_base_url=evolink.url)
    live = await harness.partner(credits=1000)
    test = await _test_key(harness, live["account"], credits=1000)
    body = {"prompt": "A cat surfing at sunset", "model": "sora-2", "duration": 10}
    price = (
        await harness.client.post(
            f"{API}/estimate",
            json={"endpoint": "generate-video", "body": body},
            headers=live["headers"],
        )
    ).json()["credits_required"]

    submitted = await harness.client.post(
        f"{API}/generate-video", json=body, headers=test["headers"]
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["credits_used"] == price  # the live price, from the test balance
    await run_queued(harness)

    status = (
        await harness.client.get(
            f"{API}/video-status/{submitted.json()['job_id']}", headers=test["headers"]
        )
    ).json()
    assert status["status"] == "complete", status
    assert status["test_mode"] is True and status["model"] == "sora-2"
    assert (status["width"], status["height"], status["duration"]) == (720, 1280, 10)
    video = await harness.client.get(status["video_url"].split("testserver")[-1])
    assert video.status_code == 200
    with av.open(__import__("io").BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (720, 1280)
        assert float(container.duration / 1_000_000) == pytest.approx(10, abs=0.2)
    assert evolink.requests == []  # no upstream was ever called
    listed = (await harness.client.get(f"{API}/videos", headers=test["headers"])).json()
    assert listed["videos"][0]["test_mode"] is True


async def test_a_live_key_never_carries_the_mark(harness):
    live = await harness.partner(credits=100)
    submitted = await harness.client.post(
        f"{API}/generate-video", json=local(duration=5), headers=live["headers"]
    )
    status = await harness.client.get(
        f"{API}/video-status/{submitted.json()['job_id']}", headers=live["headers"]
    )
    assert "test_mode" not in status.json()


async def test_a_test_analysis_reads_the_sample_ad_and_writes_offline(settings_factory):
    # Live jobs here would use a language model and OpenAI's transcription, both unreachable.
    settings = settings_factory(
        llm_base_url="http://127.0.0.1:9",
        llm_model="unreachable",
        transcription="openai",
        openai_api_key="unused",
        openai_base_url="http://127.0.0.1:9/v1",
    )
    async with running_harness(settings, run_workers=False) as harness:
        live = await harness.partner(credits=100)
        test = await _test_key(harness, live["account"])
        submitted = await harness.client.post(
            f"{API}/analyze",
            json={"url": "https://www.tiktok.com/@brand/video/7300000000000000001"},
            headers=test["headers"],
        )
        assert submitted.status_code == 200, submitted.text
        container = harness.container
        runner = WorkerRunner(
            container.queue, container.job_handlers(), slots=1, poll_interval=0.1, worker_id="t"
        )
        while (job := await container.queue.claim(runner.worker_id, ["analysis.run"])) is not None:
            await runner.execute(job)
        status = (
            await harness.client.get(
                f"{API}/status/{submitted.json()['job_id']}", headers=test["headers"]
            )
        ).json()
        assert status["status"] == "complete", status
        assert status["test_mode"] is True
        result = status["result"]
        assert result["source"]["test_mode"] is True
        assert "brightbrew" in result["transcription"].lower()  # the bundled sample ad's voice
        # The configured model was never tried (a failed try would be named in the engine).
        assert result["engine"]["summary"] == "deterministic-v1", result["engine"]
        assert result["engine"]["transcription"].startswith("faster-whisper"), result["engine"]
        assert await balance_of(harness, live["account_id"]) == 100


async def test_operator_mistakes_with_test_accounts_are_refused(harness):
    live = await harness.partner(credits=100)
    test = await _test_key(harness, live["account"])
    with pytest.raises(OperatorError, match="is a test account"):
        await admin.create_key(harness.container.engine, test["account"])
    with pytest.raises(OperatorError, match="is a test account"):
        await admin.create_test_key(harness.container.engine, test["account"])
