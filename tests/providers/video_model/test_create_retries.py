"""Creating an upstream task through trouble: an outage at submit time is waited out with backoff
over minutes, a retried 429 is logged, and a create that may have reached the upstream is never
sent twice where the upstream could not tell the two apart. Real HTTP to fakes on loopback; the
outage is a real closed port that the fake later starts listening on."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from knightvision.media.shapes import ASPECT_RATIOS
from knightvision.providers.video_model.capabilities import RESOLUTION_ORDER, plan_render
from knightvision.providers.video_model.upstream_http import UpstreamHttp
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.kling import FakeKling
from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fakes.upstream import Canned, FakeUpstream
from tests.fixtures.video_models import (
    FAST,
    MemoryRun,
    assert_shape,
    evolink_adapter,
    failure,
    kie_adapter,
    kling_adapter,
    openai_adapter,
    spec,
)

# Backoff as in production (5 s doubling to 30 s, five minutes), on a clock the waits advance.
MINUTES = replace(FAST, poll_initial=5.0, poll_max=30.0, create_retry_window=300.0)


def free_port() -> int:
    """A port nothing listens on (yet): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SteppedClock:
    """The adapter's clock and sleep: each wait moves the clock on at once, and may run an event
    (the upstream coming back) after a given number of waits."""

    def __init__(self, on_wait: dict[int, Any] | None = None) -> None:
        self.now = 1_000_000.0
        self.waits: list[float] = []
        self._on_wait = on_wait or {}

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        event = self._on_wait.get(len(self.waits))
        if event is not None:
            event()


async def test_a_short_outage_at_create_is_waited_out_and_creates_one_task(
    run: MemoryRun, output: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    fake = FakeKie()  # kie: no idempotency key, so a second create would be a second render
    clock = SteppedClock(on_wait={3: lambda: fake.start(port)})
    adapter = kie_adapter(fake, policy=MINUTES, clock=clock, sleep=clock.sleep)
    adapter.base_url = f"http://127.0.0.1:{port}"
    fake.script.polls_to_finish = 0
    caplog.set_level(logging.WARNING, "knightvision.upstream")
    try:
        s = spec("sora-2-text-to-video", 10, "16:9")
        await adapter.generate(s, output, run)
    finally:
        fake.stop()

    assert_shape(output, s)
    assert fake.create_calls == fake.tasks_created == 1
    create_waits = clock.waits[:3]
    assert create_waits == sorted(create_waits) and 2.5 <= create_waits[0] <= 5.0
    # The log says where it could not connect (a wrong base URL shows up here) and that it retries.
    assert f"could not reach kie at POST http://127.0.0.1:{port}/api/v1/jobs/createTask" in (
        caplog.text
    )
    assert "trying again in" in caplog.text
    assert run.memory.get("upstream_create_retries") is None  # cleared once created


async def test_an_outage_outlasting_the_window_fails_after_minutes_not_seconds(
    run: MemoryRun, output: Path
) -> None:
    clock = SteppedClock()
    adapter = kie_adapter(FakeKie(), policy=MINUTES, clock=clock, sleep=clock.sleep)
    adapter.base_url = f"http://127.0.0.1:{free_port()}"
    error = await failure(adapter.generate(spec("sora-2-text-to-video", 10, "16:9"), output, run))
    assert (error.code, error.retryable) == ("upstream_unavailable", True)
    assert error.message == "The video provider was unreachable or kept failing"
    assert "kie" not in error.message and "127.0.0.1" in error.detail
    waited = sum(clock.waits)
    assert 180 <= waited <= 300 and len(clock.waits) >= 6  # minutes of backoff, several tries


async def test_503_and_408_on_create_are_retried_and_create_once(
    kie: FakeKie, run: MemoryRun, output: Path
) -> None:
    kie.script.polls_to_finish = 0
    kie.script.create_responses = [Canned(503, "busy"), Canned(408, "request timeout")]
    clock = SteppedClock()
    adapter = kie_adapter(kie, policy=MINUTES, clock=clock, sleep=clock.sleep)
    await adapter.generate(spec("sora-2-text-to-video", 10, "16:9"), output, run)
    assert kie.create_calls == 3 and kie.tasks_created == 1


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_an_answer_that_may_hide_a_task_is_final_without_a_key_and_retried_with_one(
    kie: FakeKie, evolink: FakeEvoLink, output: Path, status: int
) -> None:
    clock = SteppedClock()
    kie.script.create_responses = [Canned(status, "upstream trouble")]
    error = await failure(
        kie_adapter(kie, policy=MINUTES, clock=clock, sleep=clock.sleep).generate(
            spec("sora-2-text-to-video", 10, "16:9"), output, MemoryRun()
        )
    )
    assert (error.code, error.retryable, kie.create_calls) == ("upstream_unavailable", False, 1)

    evolink.script.create_responses = [Canned(status, "upstream trouble")]
    evolink.script.polls_to_finish = 0
    await evolink_adapter(evolink, policy=MINUTES, clock=clock, sleep=clock.sleep).generate(
        spec("sora-2", 10, "16:9"), output, MemoryRun()
    )
    assert evolink.create_calls == 2 and evolink.tasks_created == 1  # same Idempotency-Key


def short_timeout(fake: FakeUpstream) -> Any:
    return lambda: httpx.AsyncClient(timeout=httpx.Timeout(0.5), follow_redirects=True)


async def test_a_create_sent_but_unanswered_is_not_sent_again_where_it_could_duplicate(
    kie: FakeKie, run: MemoryRun, output: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kie.script.stall_posts, kie.script.stall_seconds = 1, 1.5  # created, answered too late
    caplog.set_level(logging.ERROR, "knightvision.upstream")
    adapter = kie_adapter(kie, policy=MINUTES, http_client_factory=short_timeout(kie))
    error = await failure(adapter.generate(spec("sora-2-text-to-video", 10, "16:9"), output, run))
    assert (error.code, error.retryable) == ("upstream_unavailable", False)
    assert kie.create_calls == kie.tasks_created == 1  # one task upstream, never a second
    key = run.memory["upstream_submission"]["key"]
    assert f"a task may exist upstream for key {key}" in caplog.text


async def test_a_create_sent_but_unanswered_is_replayed_where_the_key_makes_it_safe(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.stall_posts, evolink.script.stall_seconds = 1, 1.5
    evolink.script.polls_to_finish = 0
    clock = SteppedClock()
    adapter = evolink_adapter(
        evolink,
        policy=MINUTES,
        http_client_factory=short_timeout(evolink),
        clock=clock,
        sleep=clock.sleep,
    )
    s = spec("sora-2", 10, "16:9")
    await adapter.generate(s, output, run)
    assert_shape(output, s)
    # Two create calls with one Idempotency-Key: EvoLink replays the task it made the first time.
    assert evolink.create_calls == 2 and evolink.tasks_created == 1


async def test_retried_429s_on_create_and_poll_are_logged(
    kie: FakeKie, run: MemoryRun, output: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limited = {"code": 429, "msg": "Too many requests"}
    kie.script.create_responses = [Canned(429, limited, headers={"Retry-After": "0"})]
    kie.script.poll_responses = [Canned(429, limited, headers={"Retry-After": "0"})]
    kie.script.polls_to_finish = 0
    caplog.set_level(logging.WARNING, "knightvision.upstream")
    await kie_adapter(kie).generate(spec("sora-2-text-to-video", 10, "16:9"), output, run)
    assert "kie is rate limiting us" in caplog.text
    assert "creating the task for job sora_20260323_141500_abc123 again in" in caplog.text
    assert "polling again in" in caplog.text


async def test_every_native_shape_a_catalogue_plans_is_accepted_by_its_strict_fake(
    evolink: FakeEvoLink, kie: FakeKie, openai_fake: FakeOpenAIVideos, kling: FakeKling
) -> None:
    """The catalogues match the documented protocols: whatever shape a route plans for any
    contract request, at the route's longest prompt, its strict fake creates without a word."""
    routes = [
        (evolink_adapter(evolink), evolink),
        (kie_adapter(kie), kie),
        (openai_adapter(openai_fake), openai_fake),
        (kling_adapter(kling), kling),
    ]
    planned = 0
    for adapter, fake in routes:
        async with httpx.AsyncClient(timeout=10) as client:
            http = UpstreamHttp(adapter.name, client)
            for model, caps in adapter.catalogue.items():
                shapes = {
                    plan_render(caps, duration, aspect, resolution)
                    for duration in range(1, 26)
                    for aspect in ASPECT_RATIOS
                    for resolution in RESOLUTION_ORDER
                } - {None}
                for plan in shapes:
                    assert plan is not None
                    width, height = plan.frame_size
                    s = replace(
                        spec(model, plan.duration, plan.aspect_ratio, plan.resolution),
                        prompt="x" * caps.max_prompt_chars,
                        width=width,
                        height=height,
                    )
                    task_id = await adapter._submit(http, s, plan, f"kv-shape-{planned}")
                    assert task_id, (adapter.name, model, plan)
                    planned += 1
        assert fake.tasks_created == fake.create_calls, adapter.name
    assert planned > 100
