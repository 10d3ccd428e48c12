"""Fake upstreams for the character tests: one real HTTP server each, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.openai_videos import FakeOpenAIVideos


@pytest.fixture(scope="session")
def _kie_fake() -> Iterator[FakeKie]:
    fake = FakeKie().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _openai_fake() -> Iterator[FakeOpenAIVideos]:
    fake = FakeOpenAIVideos().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _evolink_fake() -> Iterator[FakeEvoLink]:
    fake = FakeEvoLink().start()
    yield fake
    fake.stop()


@pytest.fixture
def kie(_kie_fake: FakeKie) -> FakeKie:
    _kie_fake.reset()
    _kie_fake.script.polls_to_finish = 1
    return _kie_fake


@pytest.fixture
def openai_fake(_openai_fake: FakeOpenAIVideos) -> FakeOpenAIVideos:
    _openai_fake.reset()
    _openai_fake.script.polls_to_finish = 1
    return _openai_fake


@pytest.fixture
def evolink(_evolink_fake: FakeEvoLink) -> FakeEvoLink:
    _evolink_fake.reset()
    _evolink_fake.script.polls_to_finish = 1
    return _evolink_fake
