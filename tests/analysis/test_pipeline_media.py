"""Media that is not a video, or is damaged, through the real ``analysis.run`` handler on a real
queue and worker, fed by a loopback ad server: deterministic failures end the job at their stage
on the first attempt (``retryable`` false, refunded once); damage players skip is skipped and
reported as a warning."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from knightvision.account import admin
from knightvision.analysis.engines import AnalysisEngines
from knightvision.analysis.pipeline import make_analysis_handler
from knightvision.analysis.service import ANALYSIS_JOB_KIND
from knightvision.db.engine import create_engine
from knightvision.db.migrate import upgrade
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.providers.ad_source import (
    ALLOWED_HOSTS,
    AdMediaFetcher,
    MediaCache,
    parse_ad_url,
)
from knightvision.providers.ad_source.cache import MediaMeta
from knightvision.providers.ad_source.urls import Platform
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber
from knightvision.settings import DEFAULT_PRICES, Settings
from knightvision.worker.runner import WorkerRunner
from tests.fakes.ad_server import AdServer, Reply
from tests.fixtures import clips
from tests.fixtures.job_queue import balances, job_row

COST = DEFAULT_PRICES["analysis"]
CREDITS = 1000


@pytest.fixture
def server() -> Iterator[AdServer]:
    with AdServer() as running:
        yield running


@pytest.fixture
def hosts(server: AdServer) -> dict[str, Platform]:
    return {**ALLOWED_HOSTS, server.host: "facebook"}


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[JobQueue]:
    async_url = Settings(
        database_url=f"sqlite:///{tmp_path / 'knightvision.db'}"
    ).async_database_url
    await asyncio.to_thread(upgrade, async_url)
    engine = create_engine(async_url)
    yield JobQueue(engine, QueuePolicy(lease_seconds=30, max_attempts=3, timeout_seconds=120))
    await engine.dispose()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)


def _engines(tmp_path: Path, hosts: dict[str, Platform]) -> AnalysisEngines:
    ytdlp = YtDlpSource(
        cookies_file=None,
        allowed_hosts=hosts,
        extractors=("generic", "html5"),
        max_bytes=5_000_000,
        max_duration_s=30,
        timeout_s=10.0,
    )
    return AnalysisEngines(
        fetcher=AdMediaFetcher(MediaCache(tmp_path / "cache"), ytdlp),
        transcriber=LocalWhisperTranscriber(),
        chat_model=None,
        work_root=tmp_path / "work",
        allowed_hosts=hosts,
    )


def _serve(server: AdServer, ad_id: int, body: bytes) -> str:
    server.route(
        f"/ads/library/?id={ad_id}",
        Reply.page(f'<html><body><video src="/media/{ad_id}.mp4"></video></body></html>'),
    )
    server.route(f"/media/{ad_id}.mp4", Reply(body=body, content_type="video/mp4"))
    return server.url(f"/ads/library/?id={ad_id}")


async def _account(queue: JobQueue) -> int:
    created = await admin.create_account(queue.engine, f"acct-{os.urandom(4).hex()}", CREDITS)
    return int(created["account_id"])


async def _submit(queue: JobQueue, account_id: int, url: str, hosts: dict[str, Platform]) -> str:
    """What ``AnalysisService.submit`` enqueues."""
    ref = parse_ad_url(url, hosts=hosts)
    job_id = new_job_id(utcnow())
    params = {
        "url": ref.url,
        "platform": ref.platform,
        "canonical_key": ref.canonical_key,
        "submitted_url": url,
    }
    await queue.submit_paid(
        job_id=job_id,
        account_id=account_id,
        kind=ANALYSIS_JOB_KIND,
        params=params,
        cost=COST,
        reason="ad analysis",
    )
    return job_id


async def _run(queue: JobQueue, engines: AnalysisEngines, job_ids: list[str]) -> list[Any]:
    runner = WorkerRunner(
        queue, {ANALYSIS_JOB_KIND: make_analysis_handler(engines)}, slots=2, poll_interval=0.05
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        for _ in range(2400):
            rows = [await job_row(queue, job_id) for job_id in job_ids]
            if all(row.finished_at is not None for row in rows):
                return rows
            await asyncio.sleep(0.05)
        raise AssertionError(f"jobs did not finish: {[(r.status, r.attempts) for r in rows]}")
    finally:
        stop.set()
        await task


async def test_a_picture_renamed_mp4_fails_once_at_its_stage_and_is_refunded_once(
    queue: JobQueue, server: AdServer, hosts: dict[str, Platform], tmp_path: Path
) -> None:
    engines = _engines(tmp_path, hosts)
    # downloaded from the platform: refused as it arrives
    served = await _account(queue)
    served_job = await _submit(
        queue, served, _serve(server, 6001, clips.png_as_mp4().read_bytes()), hosts
    )
    # already in the media cache (stored before still pictures were refused): the frames stage
    # finds out, deterministically
    cached = await _account(queue)
    engines.fetcher.cache.put(
        "facebook:6002", clips.still_image_as_mp4(), MediaMeta(source_url=None)
    )
    cached_job = await _submit(queue, cached, _serve(server, 6002, b"unused"), hosts)

    rows = await _run(queue, engines, [served_job, cached_job])

    for row, account, stage in zip(
        rows, (served, cached), ("downloading", "extracting_frames"), strict=True
    ):
        assert (row.status, row.error_code, row.failed_stage, row.retryable, row.attempts) == (
            "error",
            "source_not_video",
            stage,
            False,
            1,
        ), (row.error, row.last_error)
        assert row.credits_refunded == COST and row.result is None
        assert await balances(queue, account) == (CREDITS, CREDITS)  # charged once, refunded once
        assert "not a playable video" in row.error and "Traceback" not in row.error
    assert server.count("/media/6002.mp4") == 0  # the cached copy was used


async def test_corrupted_bytes_complete_the_analysis_with_warnings(
    queue: JobQueue, server: AdServer, hosts: dict[str, Platform], tmp_path: Path
) -> None:
    damaged = clips.damaged_copy(clips.intact_clip(), "job-corrupted.mp4", corrupt=400)
    account = await _account(queue)
    job_id = await _submit(queue, account, _serve(server, 6003, damaged.read_bytes()), hosts)

    [row] = await _run(queue, _engines(tmp_path, hosts), [job_id])

    assert (row.status, row.attempts) == ("complete", 1), (row.error, row.last_error)
    metrics = row.result["metrics"]
    assert metrics["duration_s"] == pytest.approx(6.0, abs=0.05)
    codes = {(w["code"], w.get("stream")) for w in metrics["warnings"]}
    assert ("decode_errors", "audio") in codes, metrics["warnings"]
    assert metrics["scene_cuts"] == [pytest.approx(3.0, abs=0.05)]
