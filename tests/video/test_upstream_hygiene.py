"""What a partner sees of upstream trouble, through the real video pipeline and real workers on
SQLite and PostgreSQL against fake upstreams on loopback: the documented sentence and code only
(the supplier's words stay in the operator log), an outage at submit waited out without a second
upstream task, and progress that moves during a render and never goes back."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from knightvision.job.queue import JobQueue
from knightvision.providers.storage.local import LocalStorage
from knightvision.providers.video_model.evolink import EvoLinkAdapter
from knightvision.providers.video_model.kie import KieAdapter
from knightvision.providers.video_model.port import PARTNER_MESSAGES
from knightvision.video.pipeline import make_video_handler
from knightvision.video.service import VIDEO_JOB_KIND
from knightvision.worker.runner import WorkerRunner
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fixtures.job_queue import balances, job_row, new_account
from tests.fixtures.partner_api import assert_error, balance_of, generate
from tests.worker.upstream_jobs import PARKING_POLICY, VIDEO_COST, submit_videos, wait_for

SUPPLIER_WORDS = ("kie", "evolink", "credentials (HTTP", "could not reach", "127.0.0.1")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_until(
    queue: JobQueue,
    adapter: EvoLinkAdapter | KieAdapter,
    media: Path,
    done: Callable[[], Awaitable[None]],
) -> None:
    """A real worker runs the queue until ``done`` returns."""
    handler = make_video_handler({adapter.name: adapter}, LocalStorage(media))
    worker = WorkerRunner(queue, {VIDEO_JOB_KIND: handler}, slots=2, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await done()
    finally:
        stop.set()
        await running


async def submit_on(queue: JobQueue, account: int, adapter: str) -> str:
    (job_id,) = await submit_videos(queue, account, 1)
    if adapter != "evolink":  # the same paid job, routed to another upstream
        from sqlalchemy import update

        from knightvision.db.schema import jobs

        async with queue.engine.begin() as conn:
            row = await job_row(queue, job_id)
            params = {**row.params, "adapter": adapter, "upstream_model": "sora-2-text-to-video"}
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(params=params))
    return job_id


async def test_refused_credentials_show_the_documented_sentence_and_log_the_supplier(
    queue: JobQueue, kie: FakeKie, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    account = await new_account(queue)
    job_id = await submit_on(queue, account, "kie")
    adapter = KieAdapter("not-the-key", base_url=kie.url, policy=PARKING_POLICY)

    async def failed() -> None:
        await wait_for(lambda: _finished(queue, job_id), 30, "the job to fail")

    await run_until(queue, adapter, tmp_path / "media", failed)

    row = await job_row(queue, job_id)
    assert (row.status, row.error_code) == ("error", "upstream_auth")
    assert row.error == PARTNER_MESSAGES["upstream_auth"] == row.message
    assert not any(word in row.error for word in SUPPLIER_WORDS)
    assert row.credits_refunded == VIDEO_COST and await balances(queue, account) == (100, 100)
    assert "kie refused our credentials (HTTP 401)" in caplog.text  # the operator's log has it
    assert job_id in caplog.text


async def test_an_outage_at_submit_is_waited_out_parked_and_creates_one_task(
    queue: JobQueue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "knightvision.upstream")
    port = free_port()
    fake = FakeEvoLink()
    fake.script.polls_to_finish = 1
    account = await new_account(queue)
    job_id = await submit_on(queue, account, "evolink")
    policy = replace(PARKING_POLICY, create_retry_window=60.0)
    adapter = EvoLinkAdapter(fake.api_key, base_url=f"http://127.0.0.1:{port}", policy=policy)
    seen: list[int] = []

    async def outage_then_back() -> None:
        async def retried_twice() -> bool:
            row = await job_row(queue, job_id)
            seen.append(row.progress or 0)
            return int((row.checkpoint or {}).get("adapter.upstream_create_retries") or 0) >= 2

        await wait_for(retried_twice, 30, "two create tries parked")
        parked = await job_row(queue, job_id)
        assert parked.lease_token is None and parked.finished_at is None  # holds no slot
        fake.start(port)  # the upstream comes back
        await wait_for(lambda: _finished(queue, job_id), 60, "the job to finish")

    try:
        await run_until(queue, adapter, tmp_path / "media", outage_then_back)
    finally:
        fake.stop()

    row = await job_row(queue, job_id)
    assert (row.status, row.attempts, row.credits_refunded) == ("complete", 1, 0)
    assert fake.create_calls == fake.tasks_created == 1
    assert f"could not reach evolink at POST http://127.0.0.1:{port}/" in caplog.text
    assert seen == sorted(seen)  # progress never went back while it waited


async def _finished(queue: JobQueue, job_id: str) -> bool:
    return (await job_row(queue, job_id)).finished_at is not None


def test_docs_list_exactly_the_sentences_partners_see() -> None:
    api = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    for code, sentence in PARTNER_MESSAGES.items():
        assert f"| `{code}` | `{sentence}` |" in api, code
    # No sentence a partner reads names an upstream or our setup.
    for sentence in PARTNER_MESSAGES.values():
        assert not any(word in sentence.lower() for word in SUPPLIER_WORDS)
        assert not any(name in sentence.lower() for name in ("openai", "kling", "sora"))


async def test_sora_2_for_15_s_on_the_openai_route_is_refused_before_any_charge(
    make_harness: Callable[..., Awaitable[Any]], openai_fake: FakeOpenAIVideos
) -> None:
    """OpenAI's spec renders 4/8/12 s: 15 s is a 500 at submit, nothing charged, nothing sent;
    10 s (rendered as 12, trimmed) is accepted and charged."""
    api = await make_harness(
        models={"sora-2": {"adapter": "openai"}},
        openai_api_key=openai_fake.api_key,
        openai_base_url=openai_fake.base_url,
    )
    partner = await api.partner(credits=1000)
    body = {"prompt": "A lighthouse at dusk", "model": "sora-2", "aspect_ratio": "16:9"}
    refused = await generate(api.client, partner["headers"], {**body, "duration": 15})
    assert_error(refused, 500, "Video generation not available", "generation_unavailable")
    assert await balance_of(api, partner["account_id"]) == 1000
    assert openai_fake.create_calls == 0
    accepted = await generate(api.client, partner["headers"], {**body, "duration": 10})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["credits_used"] > 0
