"""Media that is not a video, or is damaged, through the real ``analysis.run`` handler on a real
queue and worker, fed by a loopback ad server: deterministic failures end the job at their stage
on the first attempt (``retryable`` false, refunded once); damage players skip is skipped and
reported as a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.job.queue import JobQueue
from knightvision.providers.ad_source.cache import MediaMeta
from knightvision.providers.ad_source.urls import Platform
from knightvision.settings import DEFAULT_PRICES
from tests.fakes.ad_server import AdServer, Reply
from tests.fixtures import clips
from tests.fixtures.analysis_jobs import (
    analysis_account,
    analysis_engines,
    run_analyses,
    submit_analysis,
)
from tests.fixtures.job_queue import balances

COST = DEFAULT_PRICES["analysis"]
CREDITS = 1000


def _serve(server: AdServer, ad_id: int, body: bytes) -> str:
    server.route(
        f"/ads/library/?id={ad_id}",
        Reply.page(f'<html><body><video src="/media/{ad_id}.mp4"></video></body></html>'),
    )
    server.route(f"/media/{ad_id}.mp4", Reply(body=body, content_type="video/mp4"))
    return server.url(f"/ads/library/?id={ad_id}")


async def test_a_picture_renamed_mp4_fails_once_at_its_stage_and_is_refunded_once(
    queue: JobQueue, server: AdServer, hosts: dict[str, Platform], tmp_path: Path
) -> None:
    engines = analysis_engines(tmp_path, hosts, max_bytes=5_000_000)
    # downloaded from the platform: refused as it arrives
    served = await analysis_account(queue)
    served_job = await submit_analysis(
        queue, served, _serve(server, 6001, clips.png_as_mp4().read_bytes()), hosts
    )
    # already in the media cache (stored before still pictures were refused): the frames stage
    # finds out, deterministically
    cached = await analysis_account(queue)
    engines.fetcher.cache.put(
        "facebook:6002", clips.still_image_as_mp4(), MediaMeta(source_url=None)
    )
    cached_job = await submit_analysis(queue, cached, _serve(server, 6002, b"unused"), hosts)

    rows = await run_analyses(queue, engines, [served_job, cached_job])

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
    account = await analysis_account(queue)
    job_id = await submit_analysis(
        queue, account, _serve(server, 6003, damaged.read_bytes()), hosts
    )

    [row] = await run_analyses(
        queue, analysis_engines(tmp_path, hosts, max_bytes=5_000_000), [job_id]
    )

    assert (row.status, row.attempts) == ("complete", 1), (row.error, row.last_error)
    metrics = row.result["metrics"]
    assert metrics["duration_s"] == pytest.approx(6.0, abs=0.05)
    codes = {(w["code"], w.get("stream")) for w in metrics["warnings"]}
    assert ("decode_errors", "audio") in codes, metrics["warnings"]
    assert metrics["scene_cuts"] == [pytest.approx(3.0, abs=0.05)]
