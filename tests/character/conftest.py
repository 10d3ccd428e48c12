"""The character tests' fake upstreams finish a task on its first poll."""

from __future__ import annotations

import pytest

from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.openai_videos import FakeOpenAIVideos


@pytest.fixture
def kie(kie_server: FakeKie) -> FakeKie:
    kie_server.reset()
    kie_server.script.polls_to_finish = 1
    return kie_server


@pytest.fixture
def openai_fake(openai_server: FakeOpenAIVideos) -> FakeOpenAIVideos:
    openai_server.reset()
    openai_server.script.polls_to_finish = 1
    return openai_server


@pytest.fixture
def evolink(evolink_server: FakeEvoLink) -> FakeEvoLink:
    evolink_server.reset()
    evolink_server.script.polls_to_finish = 1
    return evolink_server
