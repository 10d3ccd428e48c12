"""The server's own output, as an operator reads it: `knightvision serve` on loopback, its stderr
parsed line by line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.processes import Deployment, wait_until

API = "/api/v1/partner"
VIDEO = {"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 1}


def deployment(tmp_path: Path, **env: str) -> Deployment:
    return Deployment(tmp_path / "data", f"sqlite:///{tmp_path / 'kv.db'}", **env)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line must be one JSON object: a log shipper reads nothing else."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_access_and_job_lines_carry_the_named_fields(tmp_path: Path) -> None:
    kv = deployment(tmp_path, KNIGHTVISION_LOG_FORMAT="json")
    partner = kv.cli("accounts", "create", "acme", "--credits", "100")
    auth = {"Authorization": f"Bearer {partner['api_key']}"}
    with kv.server(), httpx.Client(base_url=kv.base, timeout=30) as client:
        credits = client.get(f"{API}/credits", headers=auth)
        missing = client.get(f"{API}/video-status/local_20261128_141500_abc123", headers=auth)
        refused = client.get(f"{API}/credits", headers={"Authorization": "Bearer kv_partner_x"})
        job_id = client.post(f"{API}/generate-video", headers=auth, json=VIDEO).json()["job_id"]
        wait_until(
            lambda: (
                client.get(f"{API}/video-status/{job_id}", headers=auth).json().get("status")
                in {"complete", "error"}
            ),
            timeout=120,
            every=1.5,  # under the route's per-key rate limit
            what="the video job to finish",
        )
    lines = json_lines(kv.log("serve"))
    access = {line["request_id"]: line for line in lines if line["logger"] == "knightvision.access"}

    line = access[credits.headers["request-id"]]
    assert line["level"] == "INFO" and line["method"] == "GET" and line["status"] == 200
    assert line["route"] == f"{API}/credits" and line["key_prefix"] == partner["key_prefix"]
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert line["client"] == "127.0.0.1" and datetime.fromisoformat(line["time"]).tzinfo
    # The route's template, never the raw path.
    line = access[missing.headers["request-id"]]
    assert (line["route"], line["status"]) == (f"{API}/video-status/{{job_id}}", 404)
    assert all("abc123" not in json.dumps(entry) for entry in access.values())
    line = access[refused.headers["request-id"]]
    assert (line["status"], line["key_prefix"]) == (401, "kv_partner_x")

    job_lines = [line for line in lines if line.get("job_id") == job_id]
    assert job_lines, "the worker logged nothing about the job"
    assert {line["job_kind"] for line in job_lines} == {"video.generate"}
    assert all(line["stage"] for line in job_lines)
    assert any("complete" in line["message"] for line in job_lines)


def test_text_is_the_default_and_names_the_request(tmp_path: Path) -> None:
    """Behind a trusted proxy the line names the client the proxy forwarded for."""
    kv = deployment(tmp_path, KNIGHTVISION_TRUSTED_PROXIES='["127.0.0.1/32"]')
    with kv.server("--no-workers"), httpx.Client(base_url=kv.base) as client:
        answer = client.get(f"{API}/credits", headers={"X-Forwarded-For": "198.51.100.9"})
    request_id = answer.headers["request-id"]
    line = next(line for line in kv.log("serve").splitlines() if request_id in line)
    assert f"INFO knightvision.access [{request_id}] GET {API}/credits 401 " in line
    assert line.endswith(" key=- client=198.51.100.9")
    assert line.lstrip()[0].isdigit()  # a timestamp first, not a JSON object


def test_a_client_hanging_up_mid_body_is_one_info_line(tmp_path: Path) -> None:
    kv = deployment(tmp_path, KNIGHTVISION_LOG_FORMAT="json")
    partner = kv.cli("accounts", "create", "acme", "--credits", "100")
    with kv.server("--no-workers"):
        for path in (f"{API}/generate-video", "/no/such/route"):  # the fast lane and FastAPI's
            with socket.create_connection(("127.0.0.1", kv.port)) as raw:
                raw.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {partner['api_key']}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                    '{"prompt": "half a bo'.encode()
                )
                time.sleep(0.3)
        wait_until(
            lambda: kv.log("serve").count('"status":499') >= 1,
            timeout=10,
            what="the disconnect to be logged",
        )
    lines = json_lines(kv.log("serve"))
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}], lines
    assert not [line for line in lines if "exception" in line]
    gone = [line for line in lines if line.get("status") == 499]
    assert gone and all(line["level"] == "INFO" for line in gone)
    assert gone[0]["route"] == f"{API}/generate-video"
    assert "disconnected" in gone[0]["message"]


def start(tmp_path: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    kv = deployment(tmp_path, **env)
    return subprocess.run(
        [sys.executable, "-m", "knightvision", *(command or ("serve", "--port", str(kv.port)))],
        env=kv.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "doing"),
    [((), "use"), (("worker",), "use"), (("db", "upgrade"), "upgrade")],
    ids=["serve", "worker", "db-upgrade"],
)
def test_an_unreachable_database_stops_the_start_in_one_line(
    tmp_path: Path, command: tuple[str, ...], doing: str
) -> None:
    done = start(
        tmp_path,
        *command,
        KNIGHTVISION_DATABASE_URL="postgresql://kv:hunter2@127.0.0.1:1/knightvision",
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (
        f"cannot {doing} the database postgresql://kv:***@127.0.0.1:1/knightvision" in done.stderr
    )
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


def test_unreachable_redis_and_unwritable_storage_stop_the_start_in_one_line(
    tmp_path: Path,
) -> None:
    redis = start(tmp_path / "a", KNIGHTVISION_REDIS_URL="redis://127.0.0.1:1/0")
    assert redis.returncode != 0 and len(redis.stderr.strip().splitlines()) == 1, redis.stderr
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in redis.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    storage = start(tmp_path / "b", KNIGHTVISION_STORAGE_URL=f"file://{blocker}/media")
    assert storage.returncode != 0 and len(storage.stderr.strip().splitlines()) == 1
    assert f"cannot write to the storage at {blocker}/media" in storage.stderr
