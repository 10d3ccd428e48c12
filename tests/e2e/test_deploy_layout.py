"""deploy/ served for real, without Docker: nginx on deploy/nginx.conf in front of two API
processes, and two workers, each started the way its systemd unit starts it, with the units'
environment file, on a fresh PostgreSQL, Redis and a loopback S3 server standing in for
SeaweedFS. Only addresses and paths are the test's. A partner's whole path runs through the proxy;
then one API process stops and the proxy still answers every request."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from knightvision.media.probe import probe
from tests.fixtures.ad_source import write_mp4
from tests.fixtures.databases import fresh_postgres_database
from tests.fixtures.harness import empty_redis_database
from tests.fixtures.nginx import loopback_config, nginx_log, nginx_or_skip, running_nginx
from tests.fixtures.object_storage import S3Server
from tests.fixtures.processes import PARTNER_API, free_port, run_cli, stop, wait_until
from tests.ratelimit.test_limiter import _redis_or_skip

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = DEPLOY / "systemd"
ENVIRONMENT_FILE = "/etc/knightvision/knightvision.env"
INSTALLED = "/opt/knightvision/.venv/bin/knightvision"
STATE_DIR = "/var/lib/knightvision"  # the units' one writable path
BUCKET = "knightvision"  # the shipped KNIGHTVISION_STORAGE_URL's
# A Redis database of its own, emptied first: its key ids repeat those of other tests' databases.
REDIS_DATABASE = 11
UNWRITABLE_HOME = "/dev/null/home"
AD_ID = "424242"
AD_SECONDS = 3


@dataclass(frozen=True)
class Unit:
    """What a systemd unit instance runs: its own variables and its command lines."""

    environment: dict[str, str]
    before: list[list[str]]  # ExecStartPre=
    command: list[str]  # ExecStart=


def systemd_unit(name: str, instance: str) -> Unit:
    environment: dict[str, str] = {}
    before: list[list[str]] = []
    command: list[str] = []
    for line in (UNITS / name).read_text().replace("%i", instance).splitlines():
        key, _, value = line.partition("=")
        if key == "EnvironmentFile":
            assert value == ENVIRONMENT_FILE, value
        elif key == "ReadWritePaths":
            assert value == STATE_DIR, value  # moved under the test's directory
        elif key == "ProtectHome":
            assert value == "yes", value  # what UNWRITABLE_HOME stands for
        elif key == "Environment":
            variable, _, setting = value.partition("=")
            environment[variable] = setting
        elif key in {"ExecStartPre", "ExecStart"}:
            argv = shlex.split(value)
            assert argv[0] == INSTALLED, argv  # here: this checkout's interpreter
            argv = [sys.executable, "-m", "knightvision", *argv[1:]]
            before.append(argv) if key == "ExecStartPre" else command.extend(argv)
    return Unit(environment, before, command)


def deploy_environment(state_dir: Path, **substituted: str) -> dict[str, str]:
    """The units' environment file, its state directory (``ReadWritePaths``) moved to
    ``state_dir`` and ``substituted`` values for some of its settings (each must be one it
    sets), over this process's environment less any Knightvision or AWS variable of its own."""
    shipped = {
        name: value.replace(STATE_DIR, str(state_dir))
        for name, value in (
            line.split("=", 1)
            for line in (UNITS / "knightvision.env").read_text().splitlines()
            if line and not line.startswith("#")
        )
    }
    assert set(substituted) <= set(shipped), set(substituted) - set(shipped)
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KNIGHTVISION_", "AWS_"))
    }
    return {**inherited, **shipped, **substituted}


class Host:
    """The processes of one deploy host, with their logs."""

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self.environment = environment
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)

    def run(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        """A unit's process. The units run with ProtectHome=yes: their home cannot be written
        (here a path no one, root included, can make)."""
        environment = {**self.environment, "HOME": UNWRITABLE_HOME, **extra}
        with open(self.log_dir / f"{name}.log", "ab") as log:
            return subprocess.Popen(argv, env=environment, stdout=log, stderr=subprocess.STDOUT)

    @contextmanager
    def service(self, name: str, unit: Unit) -> Iterator[subprocess.Popen[bytes]]:
        process = self.run(name, unit.command, **unit.environment)
        try:
            yield process
        finally:
            stop(process)

    def cli(self, *args: str) -> Any:
        return run_cli(self.environment, *args)

    def logs(self, tail: int = 3000) -> str:
        """Each process's log, the last ``tail`` characters of it."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


def test_the_deploy_layout_serves_the_partner_api_through_nginx(
    s3_server: S3Server, tmp_path: Path
) -> None:
    binary = nginx_or_skip()
    redis_url = _empty_redis()
    proxy = f"http://127.0.0.1:{free_port()}"
    api_ports = [free_port(), free_port()]
    state_dir = tmp_path / "var-lib-knightvision"
    with fresh_postgres_database() as database_url, _bucket(s3_server), ExitStack() as running:
        host = Host(
            deploy_environment(
                state_dir,
                KNIGHTVISION_DATABASE_URL=database_url,
                KNIGHTVISION_REDIS_URL=redis_url,
                AWS_ENDPOINT_URL=s3_server.endpoint,
                KNIGHTVISION_PUBLIC_BASE_URL=proxy,
            ),
            tmp_path / "logs",
        )
        apis = [systemd_unit("knightvision-api@.service", str(port)) for port in api_ports]
        # Both API units start at once, each running its ExecStartPre (db upgrade) first.
        upgrades = [
            host.run(f"api-{n}-upgrade", argv, **unit.environment)
            for n, unit in enumerate(apis, 1)
            for argv in unit.before
        ]
        assert [upgrade.wait(timeout=120) for upgrade in upgrades] == [0] * len(upgrades), (
            host.logs()
        )
        api_processes = [
            running.enter_context(host.service(f"api-{n}", unit)) for n, unit in enumerate(apis, 1)
        ]
        for port, process in zip(api_ports, api_processes, strict=True):
            wait_until(  # what compose's health check asks of an API
                lambda port=port: _status(f"http://127.0.0.1:{port}/readyz") == 200,
                timeout=60,
                what=f"the API on port {port} to be ready",
                process=process,
            )
        for n in (1, 2):
            running.enter_context(
                host.service(f"worker-{n}", systemd_unit("knightvision-worker@.service", str(n)))
            )
        nginx_dir = tmp_path / "nginx"
        config = loopback_config(
            (DEPLOY / "nginx.conf").read_text(),
            [f"127.0.0.1:{port}" for port in api_ports],
            int(proxy.rsplit(":", 1)[1]),
            nginx_dir,
        )
        nginx = running.enter_context(running_nginx(binary, config, nginx_dir))
        wait_until(
            lambda: _status(f"{proxy}/healthz") == 200,
            timeout=30,
            what="nginx to answer",
            process=nginx,
        )
        try:
            headers = _a_partner_makes_and_downloads_a_video(host, proxy, tmp_path)
            _the_partner_analyses_an_ad(host, proxy, headers, tmp_path)
            stop(api_processes[0])  # systemctl stop knightvision-api@<port>
            _every_request_is_still_answered(proxy, headers)
            # ... though nginx did send some of them to the stopped one first
            assert f"127.0.0.1:{api_ports[0]}" in (nginx_dir / "error.log").read_text()
        except (AssertionError, KeyError) as failure:
            raise AssertionError(f"{failure}\n{host.logs()}\n{nginx_log(nginx_dir)}") from None
        finally:
            shutil.rmtree(state_dir / "cache", ignore_errors=True)  # the joined Whisper model


def _a_partner_makes_and_downloads_a_video(
    host: Host, proxy: str, tmp_path: Path
) -> dict[str, str]:
    """A key from the CLI, a video made, polled and downloaded through the proxy: the key's
    headers."""
    account = host.cli("accounts", "create", "acme", "--credits", "100")
    headers = {"Authorization": f"Bearer {account['api_key']}"}
    submitted = httpx.post(
        f"{proxy}{PARTNER_API}/generate-video",
        headers=headers,
        json={
            "prompt": "A lighthouse keeper paints the sunrise.",
            "model": "local-storyboard",
            "duration": 2,
            "aspect_ratio": "1:1",
        },
        timeout=10,
    )
    assert submitted.status_code == 200, submitted.text
    job_id = submitted.json()["job_id"]
    final = wait_until(
        lambda: _finished(proxy, headers, job_id),
        timeout=180,
        what="the video to finish",
        every=1.0,  # within the key's 60 status reads a minute
    )
    assert final["status"] == "complete", final
    assert final["video_url"] == f"{proxy}/static/videos/{job_id}.mp4"

    video = httpx.get(final["video_url"], timeout=30)
    assert (video.status_code, video.headers["content-type"]) == (200, "video/mp4")
    saved = tmp_path / "downloaded.mp4"
    saved.write_bytes(video.content)
    info = probe(saved)
    assert (info.width, info.height) == (720, 720) and abs(info.duration - 2) <= 0.1
    part = httpx.get(final["video_url"], headers={"Range": "bytes=100-1099"}, timeout=30)
    assert part.status_code == 206 and part.content == video.content[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(video.content)}"

    assert _status(f"{proxy}/healthz") == 200
    ready = httpx.get(f"{proxy}/readyz", timeout=10)
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}
    credits = httpx.get(f"{proxy}{PARTNER_API}/credits", headers=headers, timeout=10).json()
    assert credits["credits_remaining"] == 98, credits

    # The APIs trust the proxy's X-Forwarded-For (their limits per client rest on it): this
    # client is on loopback too, so the address it claims is the one the API must see.
    claimed = "198.51.100.7"
    assert httpx.get(f"{proxy}/healthz", headers={"X-Forwarded-For": claimed}).status_code == 200
    wait_until(
        lambda: f'"client":"{claimed}"' in host.logs(tail=1_000_000),
        timeout=10,
        what="an access log line naming the forwarded client",
    )
    return headers


def _the_partner_analyses_an_ad(
    host: Host, proxy: str, headers: dict[str, str], tmp_path: Path
) -> None:
    """An ad the operator put in the media cache (``knightvision ads import``), analysed by a
    worker with the default engines."""
    host.cli("ads", "import", AD_ID, str(write_mp4(tmp_path / "ad.mp4", AD_SECONDS)))
    submitted = httpx.post(
        f"{proxy}{PARTNER_API}/analyze", headers=headers, json={"url": AD_ID}, timeout=10
    )
    assert submitted.status_code == 200, submitted.text
    job_id = submitted.json()["job_id"]
    final = wait_until(
        lambda: _finished(proxy, headers, job_id, "status"),
        timeout=180,
        what="the analysis to finish",
        every=1.0,
    )
    assert final["status"] == "complete", final
    assert abs(final["result"]["metrics"]["duration_s"] - AD_SECONDS) < 0.2, final
    assert final["result"]["engine"]["transcription"] == "faster-whisper base", final


def _every_request_is_still_answered(proxy: str, headers: dict[str, str]) -> None:
    """nginx sends each request to the API left (round robin would send half to the stopped
    one): liveness, readiness, a partner's read and a POST."""
    for _ in range(6):
        assert _status(f"{proxy}/healthz") == 200
        assert _status(f"{proxy}/readyz") == 200
        credits = httpx.get(f"{proxy}{PARTNER_API}/credits", headers=headers, timeout=10)
        assert credits.status_code == 200, credits.text
        quote = httpx.post(
            f"{proxy}{PARTNER_API}/estimate",
            headers=headers,
            json={
                "endpoint": "generate-video",
                "body": {"prompt": "A kettle sings.", "model": "local-storyboard", "duration": 2},
            },
            timeout=10,
        )
        assert quote.status_code == 200, quote.text


def _finished(
    proxy: str, headers: dict[str, str], job_id: str, endpoint: str = "video-status"
) -> dict[str, Any] | None:
    reply = httpx.get(f"{proxy}{PARTNER_API}/{endpoint}/{job_id}", headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    status = dict(reply.json())
    return status if status["status"] in {"complete", "error"} else None


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def _empty_redis() -> str:
    return empty_redis_database(_redis_or_skip().rsplit("/", 1)[0] + f"/{REDIS_DATABASE}")


@contextmanager
def _bucket(s3_server: S3Server) -> Iterator[None]:
    """The shipped bucket, as compose's ``bucket`` job creates it."""
    s3_server.client().create_bucket(Bucket=BUCKET)
    try:
        yield
    finally:
        s3_server.drop_bucket(BUCKET)
