"""The operator CLI against a real SQLite database, with --json output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from knightvision.cli import main
from knightvision.db.migrate import head_revision


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
    assert cli("db", "upgrade", "--json")["revision"] == head_revision() == "0004"


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
