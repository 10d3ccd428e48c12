"""The operator CLI against a real SQLite database, with --json output."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import click
import httpx
import pytest
import typer
from sqlalchemy import select

from knightvision import __version__
from knightvision.account import admin
from knightvision.cli import main
from knightvision.db.engine import create_engine
from knightvision.db.migrate import head_revision, upgrade
from knightvision.db.schema import jobs
from knightvision.settings import load_settings
from tests.fixtures.processes import Deployment


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("KNIGHTVISION_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str, expect: int = 0):
        monkeypatch.setattr(sys, "argv", ["knightvision", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        assert (exited.value.code or 0) == expect, out + err
        return json.loads(out) if "--json" in args and expect == 0 else out + err

    return run


def test_accounts_keys_and_credits(cli) -> None:
    created = cli("accounts", "create", "acme", "--credits", "500", "--json")
    assert created["account"] == "acme" and created["credits"] == 500
    assert (
        created["api_key"].startswith("kv_partner_")
        and len(created["api_key"]) == len("kv_partner_") + 43
    )
    second = cli("keys", "create", "--account", "acme", "--json")
    keys = cli("keys", "list", "--account", "acme", "--json")
    assert [key["key_prefix"] for key in keys] == [created["key_prefix"], second["key_prefix"]]
    assert all(key["active"] for key in keys) and "api_key" not in keys[0]

    assert cli("credits", "add", "--account", "acme", "250", "--json")["credits"] == 750
    assert (
        cli(
            "credits",
            "adjust",
            "--account",
            "acme",
            "--amount",
            "-50",
            "--reason",
            "goodwill reversal",
            "--json",
        )["credits"]
        == 700
    )
    shown = cli("credits", "show", "--account", "acme", "--json")
    assert shown["credits"] == shown["ledger_sum"] == 700
    assert [(e["kind"], e["amount"]) for e in shown["recent"]] == [
        ("adjustment", -50),
        ("grant", 250),
        ("grant", 500),
    ]
    assert "goodwill reversal" in cli("credits", "show", "--account", "acme")


def test_deactivate_and_limits_by_prefix(cli) -> None:
    created = cli("accounts", "create", "acme", "--credits", "5", "--json")
    limits = cli(
        "keys",
        "limits",
        created["key_prefix"],
        "--set",
        "video_status=1000",
        "--set",
        "videos=3",
        "--json",
    )
    assert limits["rate_limits"] == {"video_status": 1000, "videos": 3}
    assert limits["effective_limits"]["generate_video"] == 5
    limits = cli("keys", "limits", created["key_prefix"], "--set", "videos=default", "--json")
    assert limits["rate_limits"] == {"video_status": 1000}
    assert cli("keys", "limits", created["key_prefix"], "--clear", "--json")["rate_limits"] == {}
    deactivated = cli("keys", "deactivate", created["api_key"], "--json")
    assert deactivated["active"] is False and deactivated["deactivated_at"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("credits", "add", "--account", "nobody", "5"), "no account named 'nobody'"),
        (("keys", "deactivate", "kv_partner_nothing"), "no key matches"),
        (("keys", "limits", "kv_partner_x", "--set", "bogus=3"), "unknown endpoint names"),
        (("keys", "limits", "kv_partner_x", "--set", "status=fast"), "whole number"),
        (
            ("credits", "adjust", "--account", "acme", "--amount", "-999", "--reason", "x"),
            "cannot go below zero",
        ),
        (("credits", "add", "--account", "acme", "--", "-5"), "must be positive"),
        (("accounts", "create", "acme"), "already exists"),
        (("jobs", "show", "local_20260101_000000_abcdef"), "no job"),
    ],
)
def test_operator_mistakes_are_messages_not_tracebacks(cli, args, message) -> None:
    cli("accounts", "create", "acme", "--credits", "10", "--json")
    output = cli(*args, expect=2)
    assert message in output and "Traceback" not in output


def test_db_upgrade_reports_the_head(cli) -> None:
    head = head_revision()
    assert head is not None and head >= "0003"  # the newest migration in the package
    assert cli("db", "upgrade", "--json")["revision"] == head


def test_ads_import_seeds_the_cache_and_refuses_what_it_cannot_key(cli, tmp_path: Path) -> None:
    import av
    import numpy as np

    clip = tmp_path / "ad.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for shade in range(10):
            frame = av.VideoFrame.from_ndarray(
                np.full((64, 64, 3), shade * 20, np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    cached = cli(
        "ads", "import", "https://www.facebook.com/ads/library/?id=42", str(clip), "--json"
    )
    assert cached["canonical_key"] == "facebook:42" and cached["size_bytes"] == clip.stat().st_size
    assert (
        cli("ads", "import", "42", str(clip), "--json")["sha256"] == cached["sha256"]
    )  # same ad, stored once
    assert "short links" in cli(
        "ads", "import", "https://vm.tiktok.com/ZMabc/", str(clip), expect=2
    )
    not_video = tmp_path / "notes.txt"
    not_video.write_text("not a video")
    assert "Traceback" not in cli("ads", "import", "43", str(not_video), expect=2)


# Version, help, output ---------------------------------------------------------------------------


def test_version(cli) -> None:
    from knightvision import __version__

    assert cli("--version").strip() == f"knightvision {__version__}"


def _options(command: click.Command, path: str = "") -> Iterator[tuple[str, click.Option]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _options(sub, f"{path} {name}".strip())
    else:
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                yield path, param


def test_every_option_that_takes_a_value_names_its_default() -> None:
    """A flag is off by default and a required option has none; every other option shows its
    default, also one that comes from the settings (shown with its environment variable)."""
    from knightvision.cli import app

    unexplained = [
        f"{path} {option.opts[0]}"
        for path, option in _options(typer.main.get_command(app))
        if not option.is_flag
        and not option.required
        and not (option.show_default and option.default is not None)
        and "default" not in (option.help or "")
    ]
    assert unexplained == []


def test_serve_help_shows_the_settings_defaults() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "knightvision", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(shown.replace("│", " ").split())
    for text in (
        "[env: KNIGHTVISION_HOST; default: 127.0.0.1]",
        "[env: KNIGHTVISION_PORT; default: 8000]",
        "[env: KNIGHTVISION_WORKERS; default: 2]",
        "[env: KNIGHTVISION_DATA_DIR; default: ./knightvision-data]",
    ):
        assert text in flat


def test_piped_output_is_not_wrapped(tmp_path: Path) -> None:
    """Into a pipe (a file, grep, a script) a long line stays one line: no break at 80 columns."""
    name = "a-partner-with-a-rather-long-account-name-" + "x" * 60
    done = subprocess.run(
        [sys.executable, "-m", "knightvision", "accounts", "create", name, "--credits", "5"],
        env={**os.environ, "KNIGHTVISION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == f"account {name} with 5 credits"
    assert lines[1].startswith("API key (shown once): kv_partner_") and len(lines) == 2
    assert len(lines[1]) == len("API key (shown once): ") + len("kv_partner_") + 43


# Jobs and status ---------------------------------------------------------------------------------


def _submit_video(data_dir: Path, api_key: str) -> str:
    """One queued video job in the CLI's database, submitted over the API as a partner would."""
    from tests.fixtures.harness import API, running_harness

    async def submit() -> str:
        settings = load_settings(data_dir=data_dir)
        async with running_harness(settings, run_workers=False) as harness:
            answer = await harness.client.post(
                f"{API}/generate-video",
                headers={"Authorization": f"Bearer {api_key}"},
                json={"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 3},
            )
            assert answer.status_code == 200, answer.text
            return str(answer.json()["job_id"])

    return asyncio.run(submit())


def test_jobs_show_is_readable(cli, tmp_path: Path) -> None:
    created = cli("accounts", "create", "acme", "--credits", "100", "--json")
    job_id = _submit_video(tmp_path / "data", created["api_key"])
    shown = cli("jobs", "show", job_id)
    lines = shown.splitlines()
    assert lines[0].split() == ["id", job_id]
    assert ["status", "queued"] in [line.split() for line in lines]
    assert any(line.split()[:2] == ["prompt", "A"] for line in lines)  # params, one per line
    assert re.search(r"^created_at\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", shown, re.MULTILINE)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", shown)  # every time to the second (run_after too)
    # No Python values: None, dict or datetime reprs, booleans as True/False.
    for python in ("None", "{'", "datetime.", "True", "False"):
        assert python not in shown
    assert cli("jobs", "show", job_id, "--json")["params"]["prompt"] == "A lighthouse at dusk"


def test_status_reports_server_queue_storage_and_upstreams(tmp_path: Path) -> None:
    kv = Deployment(tmp_path / "data", f"sqlite:///{tmp_path / 'kv.db'}")
    created = kv.cli("accounts", "create", "acme", "--credits", "100")
    down = kv.cli("status", "--url", kv.base)
    assert down["server"]["reachable"] is False and down["server"]["error"]
    assert down["queue"] == {}
    with kv.server("--no-workers"):
        with httpx.Client(base_url=kv.base) as client:
            answer = client.post(
                "/api/v1/partner/generate-video",
                headers={"Authorization": f"Bearer {created['api_key']}"},
                json={"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 2},
            )
            assert answer.status_code == 200, answer.text
        up = kv.cli("status", "--url", kv.base)
    assert up["server"] == {
        "url": kv.base,
        "reachable": True,
        "version": __version__,
        "error": None,
    }
    assert up["queue"] == {
        "video.generate": {"queued": 1, "running": 0, "oldest_queued_seconds": ANY}
    }
    assert up["storage"]["path"] == str(tmp_path / "data" / "media")
    assert up["storage"]["writable"] is True and up["storage"]["free_bytes"] > 0
    models = up["upstreams"]["video_models"]
    assert models["local-storyboard"] == "local-storyboard (ready)"
    assert models["sora-2"] == "evolink (not configured)"
    text = subprocess.run(
        [sys.executable, "-m", "knightvision", "status", "--url", kv.base],
        env=kv.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"^  reachable\s+no$", text, re.MULTILINE)
    assert re.search(r"^    queued\s+1$", text, re.MULTILINE)


# The demo ----------------------------------------------------------------------------------------


def test_a_second_demo_run_reuses_its_account_and_key(tmp_path: Path) -> None:
    from knightvision.demo import DEMO_ACCOUNT, DEMO_CREDITS, _demo_key

    settings = load_settings(data_dir=tmp_path / "demo")

    async def credits() -> int:
        engine = create_engine(settings.async_database_url)
        try:
            return int((await admin.show_credits(engine, DEMO_ACCOUNT))["credits"])
        finally:
            await engine.dispose()

    async def keys() -> list[dict[str, Any]]:
        engine = create_engine(settings.async_database_url)
        try:
            return await admin.list_keys(engine, DEMO_ACCOUNT)
        finally:
            await engine.dispose()

    upgrade(settings.async_database_url)
    first = asyncio.run(_demo_key(settings))
    second = asyncio.run(_demo_key(settings))
    assert second == first and len(asyncio.run(keys())) == 1
    assert asyncio.run(credits()) == DEMO_CREDITS  # not 1000 more on every run

    async def spend_and_deactivate() -> None:
        engine = create_engine(settings.async_database_url)
        try:
            await admin.change_credits(engine, DEMO_ACCOUNT, -950, "spent", kind="adjustment")
            await admin.deactivate_key(engine, first)
        finally:
            await engine.dispose()

    asyncio.run(spend_and_deactivate())
    third = asyncio.run(_demo_key(settings))
    assert third != first and (tmp_path / "demo" / "demo-api-key").read_text().strip() == third
    assert asyncio.run(credits()) == DEMO_CREDITS  # topped back up, not beyond
    assert oct((tmp_path / "demo" / "demo-api-key").stat().st_mode & 0o777) == "0o600"


async def test_the_demo_runs_its_own_job_and_leaves_others_queued(api) -> None:
    from knightvision.demo import _run_own_job
    from knightvision.video.service import VIDEO_JOB_KIND
    from knightvision.worker.runner import WorkerRunner
    from tests.fixtures.harness import API

    partner = await api.partner()
    body = {"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 2}
    others = (
        await api.client.post(f"{API}/generate-video", headers=partner["headers"], json=body)
    ).json()
    own = (
        await api.client.post(f"{API}/generate-video", headers=partner["headers"], json=body)
    ).json()

    async def finish(context) -> dict[str, Any]:
        return {"video": "done"}

    runner = WorkerRunner(
        api.container.queue, {VIDEO_JOB_KIND: finish}, slots=1, poll_interval=0.05
    )
    running = asyncio.create_task(_run_own_job(runner, own["job_id"]))
    try:
        for _ in range(200):
            status = await api.client.get(
                f"{API}/video-status/{own['job_id']}", headers=partner["headers"]
            )
            if status.json()["status"] == "complete":
                break
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert status.json()["status"] == "complete"
    async with api.container.engine.connect() as conn:
        other = (await conn.execute(select(jobs).where(jobs.c.id == others["job_id"]))).one()
    assert (other.status, other.attempts, other.lease_owner) == ("queued", 0, None)
