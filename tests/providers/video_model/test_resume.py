"""Restart in the middle of polling (D14): the retried attempt polls the remembered task, never
submits (or pays for) a second one. Also the narrow crash between the create call and the
checkpoint, where the upstream's idempotency key or external id is what saves the render."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from knightvision.providers.video_model.port import GenerationSpec
from tests.fakes.upstream import Canned, FakeUpstream
from tests.fixtures.video_models import (
    MemoryRun,
    assert_shape,
    evolink_adapter,
    failure,
    kie_adapter,
    kling_adapter,
    openai_adapter,
    spec,
)

CASES: dict[str, tuple[str, Callable[..., Any], GenerationSpec]] = {
    "evolink": ("evolink", evolink_adapter, spec("sora-2", 10, "16:9")),
    "kie": ("kie", kie_adapter, spec("sora-2-text-to-video", 10, "16:9")),
    "openai": ("openai_fake", openai_adapter, spec("sora-2", 8, "16:9")),
    "kling": ("kling", kling_adapter, spec("kling-v3", 5, "16:9")),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[FakeUpstream, Callable[..., Any], GenerationSpec]:
    fixture, make, s = CASES[request.param]
    return request.getfixturevalue(fixture), make, s


async def test_cancelled_mid_poll_then_resumed_polls_the_same_task(
    case: Any, tmp_path: Path
) -> None:
    fake, make, s = case
    fake.script.never_finish = True
    run = MemoryRun()
    first = asyncio.create_task(make(fake).generate(s, tmp_path / "a.mp4", run))
    await asyncio.wait_for(run.remembered.wait(), 10)
    # The fake counts polls on its own server thread; there is no event to await.
    while fake.poll_calls < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    first.cancel()  # the worker shut down (or was killed) while polling
    with pytest.raises(asyncio.CancelledError):
        await first

    fake.script.never_finish = False
    fake.script.polls_to_finish = 0
    polls_before = fake.poll_calls
    provenance = await make(fake).generate(
        s, tmp_path / "b.mp4", run
    )  # a new adapter: a new process

    assert fake.create_calls == 1 and fake.tasks_created == 1
    assert fake.poll_calls > polls_before
    assert (
        provenance["resumed"] is True
        and provenance["upstream_task_id"] == run.memory["upstream_task"]["task_id"]
    )
    assert_shape(tmp_path / "b.mp4", s)


async def test_attempt_failing_on_an_outage_is_retried_on_the_same_task(
    case: Any, tmp_path: Path
) -> None:
    fake, make, s = case
    fake.script.polls_to_finish = 0
    fake.script.poll_responses = [Canned(503, "down")] * 3  # beyond the tolerated two in a row
    run = MemoryRun()
    error = await failure(make(fake).generate(s, tmp_path / "a.mp4", run))
    assert (error.code, error.retryable) == ("upstream_unavailable", True)

    await make(fake).generate(s, tmp_path / "b.mp4", run)
    assert fake.create_calls == 1 and fake.tasks_created == 1


class CrashAfterCreate(MemoryRun):
    """The process dies between the upstream's create answer and our checkpoint of the task id."""

    def __init__(self) -> None:
        super().__init__()
        self.crash = True

    async def remember(self, name: str, value: Any) -> None:
        if name == "upstream_task" and value and self.crash:
            self.crash = False
            raise RuntimeError("killed before the checkpoint was written")
        await super().remember(name, value)


@pytest.mark.parametrize(
    ("name", "tasks_created", "create_calls"),
    [
        ("evolink", 1, 2),  # same Idempotency-Key: EvoLink replays the original task
        ("kling", 1, 1),  # the task is found again by its external_task_id
        (
            "kie",
            2,
            2,
        ),  # no idempotency upstream: the operator pays a duplicate, the partner never does
        ("openai", 2, 2),
    ],
)
async def test_crash_between_create_and_checkpoint(
    request: pytest.FixtureRequest, name: str, tasks_created: int, create_calls: int, tmp_path: Path
) -> None:
    fixture, make, s = CASES[name]
    fake = request.getfixturevalue(fixture)
    fake.script.polls_to_finish = 0
    run = CrashAfterCreate()
    with pytest.raises(RuntimeError):
        await make(fake).generate(s, tmp_path / "a.mp4", run)
    assert run.memory["upstream_submission"]["key"]  # the key was durable before the create call

    await make(fake).generate(s, tmp_path / "b.mp4", run)
    assert (fake.tasks_created, fake.create_calls) == (tasks_created, create_calls)
    assert_shape(tmp_path / "b.mp4", s)


async def test_resumed_past_the_cap_delivers_a_finished_task_but_times_out_a_running_one(
    evolink: Any, tmp_path: Path
) -> None:
    evolink.script.never_finish = True
    s = spec("sora-2", 10, "16:9")
    run = MemoryRun()
    first = asyncio.create_task(evolink_adapter(evolink).generate(s, tmp_path / "a.mp4", run))
    await asyncio.wait_for(run.remembered.wait(), 10)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    run.memory["upstream_task"]["submitted_at"] -= 3600  # the workers were down for an hour

    error = await failure(evolink_adapter(evolink).generate(s, tmp_path / "b.mp4", run))
    assert (error.code, error.retryable) == ("upstream_timeout", False)

    evolink.script.never_finish = False
    evolink.script.polls_to_finish = 0
    await evolink_adapter(evolink).generate(
        s, tmp_path / "c.mp4", run
    )  # finished upstream: delivered
    assert evolink.tasks_created == 1
