"""Whole deployments on an S3-compatible store, as operators run them: an API process and a
worker process sharing only PostgreSQL/SQLite and the bucket. A video job reaches a ``video_url``
that downloads; a store failing during the upload is retried, and one that stays down fails the
job with a refund and never serves half a file; a worker whose storage the API cannot read is
refused at start in one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knightvision.db.migrate import upgrade
from knightvision.media.probe import probe
from knightvision.settings import Settings
from tests.fixtures.object_storage import FlakyProxy, S3Server
from tests.fixtures.processes import Deployment, stop, wait_until

API = "/api/v1/partner"


@pytest.fixture
def deployment(s3_server: S3Server, s3_bucket: str, backend_url: str, tmp_path: Path) -> Deployment:
    """On SQLite and on PostgreSQL (``backend_url``)."""
    upgrade(Settings(database_url=backend_url).async_database_url)
    return Deployment(
        tmp_path / "api-host",
        backend_url,
        KNIGHTVISION_STORAGE_URL=f"s3://{s3_bucket}/media",
        KNIGHTVISION_MAX_ATTEMPTS="2",
        **s3_server.env(),
    )


def _worker_env(deployment: Deployment, tmp_path: Path, **env: str) -> dict[str, str]:
    """Another host: its own data directory, the same database and store."""
    return {**deployment.env, "KNIGHTVISION_DATA_DIR": str(tmp_path / "worker-host"), **env}


@pytest.fixture
def worker(deployment: Deployment, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = _spawn_worker(deployment, _worker_env(deployment, tmp_path))
    yield process
    stop(process)


def _spawn_worker(deployment: Deployment, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(deployment.log_dir / "worker.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "knightvision", "worker", "--slots", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _finished(
    deployment: Deployment, headers: dict[str, str], job_id: str, worker: subprocess.Popen[bytes]
) -> dict:
    def status() -> dict | None:
        body = httpx.get(
            f"{deployment.base}{API}/video-status/{job_id}", headers=headers, timeout=10
        ).json()
        return body if body["status"] in {"complete", "error"} else None

    return wait_until(status, timeout=180, what=f"job {job_id} to finish", process=worker)


def _mp4s(root: Path) -> list[Path]:
    return [path for path in root.rglob("*.mp4") if path.is_file()]


def _refused_worker(
    env: dict[str, str], command: tuple[str, ...] = ("worker",)
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knightvision", *command],
        env={**env, "COLUMNS": "500"},  # a terminal wide enough that rich does not wrap the line
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_video_made_on_another_host_downloads_and_a_stray_worker_is_refused(
    deployment: Deployment,
    worker: subprocess.Popen[bytes],
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    headers = deployment.polling_partner(100)
    with deployment.server("--no-workers"):
        job_id = deployment.submit_video(headers, duration=2)
        final = _finished(deployment, headers, job_id, worker)
        assert final["status"] == "complete", final
        assert final["video_url"] == f"{deployment.base}/static/videos/{job_id}.mp4"
        download = httpx.get(final["video_url"], timeout=30)
        assert download.status_code == 200
        (tmp_path / "downloaded.mp4").write_bytes(download.content)
        info = probe(tmp_path / "downloaded.mp4")  # a whole video that decodes
        assert (info.width, info.height) == (1280, 720) and abs(info.duration - 2) <= 0.1
        stored = s3_server.client().head_object(Bucket=s3_bucket, Key=f"media/videos/{job_id}.mp4")
        assert stored["ContentLength"] == len(download.content)
        # The finished video lives in the bucket only, on neither host.
        assert _mp4s(tmp_path / "api-host") == [] and _mp4s(tmp_path / "worker-host") == []

        # A worker started on another host with the default local storage would charge for
        # videos that answer 404: refused at start, in one line, before claiming anything.
        stray = _refused_worker(
            {
                **_worker_env(deployment, tmp_path),
                "KNIGHTVISION_DATA_DIR": str(tmp_path / "stray-host"),
                "KNIGHTVISION_STORAGE_URL": (tmp_path / "stray-host" / "media").as_uri(),
            }
        )
        assert stray.returncode == 2, stray.stdout + stray.stderr
        message = stray.stdout.strip() + stray.stderr.strip()
        assert message.startswith("error: storage file://") and "\n" not in message
        assert "holds none of the 1 latest finished videos" in message


@pytest.mark.parametrize("command", [("worker",), ("serve", "--no-workers")])
def test_a_process_whose_store_cannot_be_written_is_refused_in_one_line(
    deployment: Deployment, tmp_path: Path, command: tuple[str, ...]
) -> None:
    refused = _refused_worker(
        _worker_env(
            deployment,
            tmp_path,
            KNIGHTVISION_STORAGE_URL="s3://kv-no-such-bucket/media",
            KNIGHTVISION_STORAGE_MAX_ATTEMPTS="1",
            KNIGHTVISION_PORT=str(deployment.port),
        ),
        command,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = refused.stdout.strip() + refused.stderr.strip()
    assert "\n" not in message, message
    assert message.startswith("error: storage s3://kv-no-such-bucket/media/ at http://127.0.0.1:")
    assert "NoSuchBucket" in message or "does not exist" in message


@pytest.mark.parametrize("outage", ["one dropped upload", "store down"])
def test_a_store_failing_during_the_upload(
    deployment: Deployment, flaky_s3: FlakyProxy, s3_bucket: str, tmp_path: Path, outage: str
) -> None:
    """The worker reaches the store through a proxy that drops uploads mid-body."""
    env = _worker_env(
        deployment,
        tmp_path,
        AWS_ENDPOINT_URL=flaky_s3.endpoint,
        KNIGHTVISION_STORAGE_MAX_ATTEMPTS="2",
    )
    worker = _spawn_worker(deployment, env)
    headers = deployment.polling_partner(100)
    try:
        with deployment.server("--no-workers"):
            # Once the worker's start-up probe went through, the faults begin.
            wait_until(lambda: flaky_s3.forwarded_puts >= 1, timeout=60, what="the probe")
            flaky_s3.fail_puts = 1 if outage == "one dropped upload" else -1
            job_id = deployment.submit_video(headers, duration=2)
            final = _finished(deployment, headers, job_id, worker)
            served = httpx.get(f"{deployment.base}/static/videos/{job_id}.mp4", timeout=30)
    finally:
        stop(worker)
    job = deployment.cli("jobs", "show", job_id)
    credits = deployment.cli("credits", "show", "--account", "acme")
    assert credits["credits"] == credits["ledger_sum"]
    if outage == "one dropped upload":
        assert final["status"] == "complete", final
        assert flaky_s3.cut == 1 and job["attempts"] == 1  # retried inside the upload
        assert served.status_code == 200 and served.content[4:8] == b"ftyp"
        assert credits["credits"] == 100 - 2
    else:
        assert final["status"] == "error", final
        assert (final["error_code"], final["failed_stage"]) == ("storage_unavailable", "storing")
        assert job["attempts"] == 2 and job["credits_refunded"] == 2
        assert credits["credits"] == 100
        assert served.status_code == 404  # nothing half-written is served
        assert "Contents" not in s3_server_listing(flaky_s3, s3_bucket)


def s3_server_listing(proxy: FlakyProxy, bucket: str) -> dict:
    proxy.fail_puts = 0
    return S3Server(proxy.endpoint).client().list_objects_v2(Bucket=bucket, Prefix="media/videos/")
