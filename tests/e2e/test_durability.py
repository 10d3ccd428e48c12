"""Accepted work is never lost (D14): server restarts and workers SIGKILLed mid-job, on both
databases."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from knightvision.db.migrate import upgrade
from knightvision.media.probe import probe
from knightvision.settings import Settings
from tests.fixtures.processes import Deployment, stop, wait_until

API = "/api/v1/partner"
THREE_SCENES = (
    "A lighthouse keeper paints the sunrise. The gulls gather to watch. Then the tide comes in."
)


@pytest.fixture
def deployment(backend_url: str, tmp_path: Path) -> Deployment:
    upgrade(Settings(database_url=backend_url).async_database_url)
    return Deployment(tmp_path / "data", backend_url)


def test_worker_killed_mid_job_leads_to_one_rerun_and_one_charge(deployment: Deployment) -> None:
    headers = deployment.polling_partner(100)
    with deployment.server("--no-workers"):
        job_id = deployment.submit_video(headers, 8, prompt=THREE_SCENES)
        doomed = deployment.spawn("worker-1", "worker", "--slots", "1")
        wait_until(
            lambda: deployment.video_status(headers, job_id)["status"] == "processing",
            timeout=60,
            what="the first worker to start the job",
            process=doomed,
            every=0.05,
        )
        stop(doomed, signal.SIGKILL)
        assert deployment.video_status(headers, job_id)["status"] == "processing"

        survivor = deployment.spawn("worker-2", "worker", "--slots", "1")
        try:
            final = wait_until(
                lambda: deployment.finished_video(headers, job_id),
                timeout=120,
                what="the second worker to finish the job",
                process=survivor,
            )
        finally:
            stop(survivor)
    assert final["status"] == "complete", final
    job = deployment.cli("jobs", "show", job_id)
    assert job["attempts"] == 2 and job["credits_refunded"] == 0
    credits = deployment.cli("credits", "show", "--account", "acme")
    assert credits["credits"] == credits["ledger_sum"] == 100 - 8
    assert [entry["kind"] for entry in credits["recent"]] == ["debit", "grant"]
    info = probe(
        Path(deployment.env["KNIGHTVISION_DATA_DIR"]) / "media" / "videos" / f"{job_id}.mp4"
    )
    assert (info.width, info.height) == (1280, 720) and abs(info.duration - 8) <= 0.1


def test_queued_job_survives_a_killed_server(deployment: Deployment) -> None:
    headers = deployment.polling_partner(100)
    with deployment.server("--no-workers") as server:
        job_id = deployment.submit_video(headers, 2, prompt=THREE_SCENES)
        stop(server, signal.SIGKILL)
    with deployment.server("--workers", "1"):
        final = wait_until(
            lambda: deployment.finished_video(headers, job_id),
            timeout=120,
            what="the restarted server to finish the job",
        )
        assert final["status"] == "complete", final
        video = httpx.get(final["video_url"], timeout=10)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        partial = httpx.get(final["video_url"], headers={"Range": "bytes=0-99"}, timeout=10)
        assert partial.status_code == 206 and len(partial.content) == 100
        assert partial.content == video.content[:100]
