"""Stopping in seconds (README "Stopping"): `knightvision worker` and `knightvision serve` with a
render in flight stop within 3 s of SIGTERM/SIGINT, hand the job back without counting the
attempt, and the next worker finishes it with one charge; a second signal exits at once; a job
past its deadline stops rendering. Real processes, real renders, both databases."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from knightvision.db.migrate import upgrade
from knightvision.settings import Settings
from tests.fixtures.harness import empty_redis_database
from tests.fixtures.processes import Deployment, stop, wait_until

API = "/api/v1/partner"
CREDITS = 100
EXIT_WITHIN = 3.0


@pytest.fixture
def deployment(backend_url: str, tmp_path: Path) -> Deployment:
    upgrade(Settings(database_url=backend_url).async_database_url)
    return Deployment(tmp_path / "data", backend_url)


def _rendering(deployment: Deployment, headers: dict[str, str], job_id: str, process) -> None:
    """Until the render is writing frames (progress moved past the start)."""
    wait_until(
        lambda: deployment.video_status(headers, job_id).get("progress", 0) >= 10,
        timeout=90,
        what="the render to be in flight",
        process=process,
        every=0.05,
    )


def _signal_and_time_exit(process: subprocess.Popen[bytes], *signums: int) -> float:
    started = time.monotonic()
    for index, signum in enumerate(signums):
        if index:  # a person pressing Ctrl-C again (two at once are one to Python's handler)
            time.sleep(0.1)
        process.send_signal(signum)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return time.monotonic() - started


def _finish(deployment: Deployment, headers: dict[str, str], job_id: str, process) -> dict:
    return wait_until(
        lambda: deployment.finished_video(headers, job_id),
        timeout=180,
        what="the job to finish",
        process=process,
    )


def _assert_resumed_once_and_charged_once(deployment: Deployment, job_id: str, final: dict) -> None:
    assert final["status"] == "complete", final
    job = deployment.cli("jobs", "show", job_id)
    # the stopped attempt was handed back, not counted: the finishing attempt is the first
    assert job["attempts"] == 1 and job["credits_refunded"] == 0, job
    credits = deployment.cli("credits", "show", "--account", "acme")
    assert credits["credits"] == credits["ledger_sum"] == CREDITS - 12
    assert [entry["kind"] for entry in credits["recent"]] == ["debit", "grant"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def test_worker_stops_within_seconds_and_the_next_worker_resumes(deployment: Deployment) -> None:
    headers = deployment.polling_partner(CREDITS)
    with deployment.server("--no-workers"):
        job_id = deployment.submit_video(headers, duration=12)
        first = deployment.spawn("worker-1", "worker", "--slots", "1")
        _rendering(deployment, headers, job_id, first)

        took = _signal_and_time_exit(first, signal.SIGTERM)

        print(f"worker exited {took:.2f} s after SIGTERM")
        assert took <= EXIT_WITHIN, took
        assert first.returncode == 0, deployment.log("worker-1")  # stopped, not forced out
        assert "still stopping" not in deployment.log("worker-1")
        handed_back = deployment.cli("jobs", "show", job_id)
        assert handed_back["attempts"] == 0 and handed_back["status"] == "processing"
        videos = Path(deployment.env["KNIGHTVISION_DATA_DIR"]) / "media" / "videos"
        assert not (videos / f"{job_id}.mp4").exists()  # the half-written render is gone

        second = deployment.spawn("worker-2", "worker", "--slots", "1")
        try:
            final = _finish(deployment, headers, job_id, second)
        finally:
            stop(second)
    _assert_resumed_once_and_charged_once(deployment, job_id, final)


def test_serve_stops_within_seconds_with_a_render_in_flight(deployment: Deployment) -> None:
    headers = deployment.polling_partner(CREDITS)
    with deployment.server("--workers", "1") as server:
        job_id = deployment.submit_video(headers, duration=12)
        _rendering(deployment, headers, job_id, server)
        took = _signal_and_time_exit(server, signal.SIGINT)
    print(f"serve exited {took:.2f} s after SIGINT")
    assert took <= EXIT_WITHIN, took
    assert "still stopping" not in deployment.log("serve")
    assert deployment.cli("jobs", "show", job_id)["attempts"] == 0

    with deployment.server("--workers", "1") as restarted:
        final = _finish(deployment, headers, job_id, restarted)
    _assert_resumed_once_and_charged_once(deployment, job_id, final)


@pytest.mark.parametrize("command", [["worker", "--slots", "1"], ["serve", "--workers", "1"]])
def test_a_second_signal_exits_at_once(deployment: Deployment, command: list[str]) -> None:
    if command[0] == "serve":  # two API processes on one database share their limits in Redis
        deployment.env["KNIGHTVISION_REDIS_URL"] = empty_redis_database()
    headers = deployment.polling_partner(CREDITS)
    with deployment.server("--no-workers"):
        job_id = deployment.submit_video(headers, duration=12)
        port = ["--port", str(deployment.port + 1)] if command[0] == "serve" else []
        process = deployment.spawn("stopping", *command, *port)
        _rendering(deployment, headers, job_id, process)
        took = _signal_and_time_exit(process, signal.SIGINT, signal.SIGINT)
    print(f"{command[0]} exited {took:.2f} s after two SIGINTs 0.1 s apart")
    assert took <= EXIT_WITHIN, took
    # 128 + SIGINT: the second signal's immediate exit, not the first one's orderly stop
    assert process.returncode == 128 + signal.SIGINT, deployment.log("stopping")
    assert "second signal" in deployment.log("stopping")


def test_a_job_past_its_deadline_stops_rendering(deployment: Deployment) -> None:
    deployment.env["KNIGHTVISION_JOB_TIMEOUT_SECONDS"] = "10"  # the least allowed
    headers = deployment.polling_partner(CREDITS)
    with deployment.server("--no-workers"):
        job_id = deployment.submit_video(headers, duration=60)  # far longer than the 10 s allowed
        worker = deployment.spawn("worker", "worker", "--slots", "1")
        try:
            final = _finish(deployment, headers, job_id, worker)
            assert (final["status"], final["error_code"]) == ("error", "timeout"), final
            assert final["credits_refunded"] == final["credits_used"]
            settled = _seconds_until_idle(worker.pid, within=IDLE_WITHIN)
        finally:
            stop(worker)
    # Frames stop at once; a soundtrack already mixing ends on its own (a few seconds of CPU on
    # a 60 s video). Before, the whole render ran on for ~11 s more.
    print(f"worker idle {settled:.1f} s after the deadline")
    videos = Path(deployment.env["KNIGHTVISION_DATA_DIR"]) / "media" / "videos"
    assert not (videos / f"{job_id}.mp4").exists()


IDLE_WITHIN = 8.0


def _seconds_until_idle(pid: int, *, within: float) -> float:
    """Seconds until a whole second passes with the process using under a quarter of a core (an
    idle worker polls the queue; a render burns most of a core)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        before = _cpu_seconds(pid)
        time.sleep(1.0)
        if _cpu_seconds(pid) - before < 0.25:
            return time.monotonic() - started
    raise AssertionError(f"the worker still burns CPU {within} s after the job's deadline")
