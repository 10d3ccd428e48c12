"""Adapter-test fixtures: the job run an adapter reports to, and where it writes its video."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.video_models import MemoryRun


@pytest.fixture
def run() -> MemoryRun:
    return MemoryRun()


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "job.mp4"
