"""`knightvision demo` (D22): the whole partner flow over HTTP, in its own data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from knightvision.media.probe import probe


def test_demo_makes_a_real_video_in_its_own_directory(tmp_path: Path) -> None:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith("KNIGHTVISION_")
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "knightvision",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "complete" and summary["api_key"].startswith("kv_partner_")
    assert summary["video_url"] == f"{summary['base_url']}/static/videos/{summary['job_id']}.mp4"
    info = probe(Path(summary["video_path"]))
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        720,
        1280,
        "h264",
        "aac",
    )
    assert abs(info.duration - 10) <= 0.1
    assert summary["analysis"]["status"] == "complete" and summary["analysis"]["summary"]
    assert not (tmp_path / "knightvision-data").exists()  # never the operator's data directory

    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "knightvision",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    second = json.loads(again.stdout)
    assert second["job_id"] != summary["job_id"]
    assert second["api_key"] == summary["api_key"]  # the same account and key, not a new one
