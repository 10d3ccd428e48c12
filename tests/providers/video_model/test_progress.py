"""Progress during an upstream render: it rises with every poll whether or not the upstream
reports a figure, never goes back, and reaches the end only when the task does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import FAST, MemoryRun, evolink_adapter, kie_adapter, spec
from tests.providers.video_model.test_create_retries import SteppedClock

# Polls every 20 s on a clock the waits advance, as a real render of a few minutes would be.
REAL_PACE = replace(FAST, poll_initial=20.0, poll_max=20.0, timeout=1200.0)


def render_span(fractions: list[float]) -> list[float]:
    """The fractions reported while the task was rendering (from submit, before the download's
    0.85)."""
    return [f for f in fractions if 0.05 <= f < 0.85]


async def test_progress_rises_through_a_render_the_upstream_gives_no_figure_for(
    kie: FakeKie, run: MemoryRun, output: Path
) -> None:
    kie.script.polls_to_finish = 8  # kie's recordInfo carries no progress figure
    clock = SteppedClock()
    adapter = kie_adapter(kie, policy=REAL_PACE, clock=clock, sleep=clock.sleep)
    await adapter.generate(spec("sora-2-text-to-video", 10, "16:9"), output, run)

    during = render_span(run.fractions)
    assert len(during) >= 9  # one per poll, not one figure for the whole render
    assert during == sorted(during) and len(set(during)) == len(during)  # rising at every poll
    assert during[-1] - during[0] > 0.3  # visibly moving, not stuck at the start
    assert run.fractions[-1] == 1.0


async def test_progress_never_goes_back_when_the_upstream_figure_lags_the_clock(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    # EvoLink's own figure rises slower than the clock's estimate here: the larger one is shown.
    evolink.script.polls_to_finish = 6
    clock = SteppedClock()
    adapter = evolink_adapter(evolink, policy=REAL_PACE, clock=clock, sleep=clock.sleep)
    await adapter.generate(spec("sora-2", 10, "16:9"), output, run)
    assert run.fractions == sorted(run.fractions)


async def test_a_rate_limited_poll_does_not_move_progress_back(
    kie: FakeKie, run: MemoryRun, output: Path
) -> None:
    kie.script.polls_to_finish = 3
    kie.script.poll_responses = [
        Canned(200, {"code": 200, "msg": "ok", "data": None}),
        Canned(429, {"code": 429, "msg": "Too many requests"}, headers={"Retry-After": "1"}),
    ]
    clock = SteppedClock()
    adapter = kie_adapter(kie, policy=REAL_PACE, clock=clock, sleep=clock.sleep)
    await adapter.generate(spec("sora-2-text-to-video", 10, "16:9"), output, run)
    assert run.fractions == sorted(run.fractions)
