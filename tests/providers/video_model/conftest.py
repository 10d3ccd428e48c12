"""Fake upstreams: one real HTTP server each, started once per session and reset for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.kling import FakeKling
from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fixtures.video_models import MemoryRun


@pytest.fixture(scope="session")
def _evolink_server() -> Iterator[FakeEvoLink]:
    fake = FakeEvoLink().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _kie_server() -> Iterator[FakeKie]:
    fake = FakeKie().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[FakeOpenAIVideos]:
    fake = FakeOpenAIVideos().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _kling_server() -> Iterator[FakeKling]:
    fake = FakeKling().start()
    yield fake
    fake.stop()


@pytest.fixture
def evolink(_evolink_server: FakeEvoLink) -> FakeEvoLink:
    _evolink_server.reset()
    return _evolink_server


@pytest.fixture
def kie(_kie_server: FakeKie) -> FakeKie:
    _kie_server.reset()
    return _kie_server


@pytest.fixture
def openai_fake(_openai_server: FakeOpenAIVideos) -> FakeOpenAIVideos:
    _openai_server.reset()
    return _openai_server


@pytest.fixture
def kling(_kling_server: FakeKling) -> FakeKling:
    _kling_server.reset()
    return _kling_server


@pytest.fixture
def run() -> MemoryRun:
    return MemoryRun()


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "job.mp4"
