"""What a video adapter sees of its job: progress (optionally in a slice) and durable memory."""

from __future__ import annotations

import pytest

from knightvision.job.queue import JobQueue
from knightvision.worker.context import AdapterRun, JobContext
from tests.fixtures.job_queue import KIND, claim, job_row


@pytest.mark.parametrize(
    ("progress_slice", "fraction", "published"),
    [
        pytest.param(None, 0.0, 5, id="default-start"),
        pytest.param(None, 0.5, 50, id="default-middle"),
        pytest.param(None, 1.0, 95, id="default-end"),
        pytest.param((40, 95), 0.5, 67, id="slice-middle"),
        pytest.param((5, 90), 1.0, 90, id="slice-end"),
        pytest.param((40, 95), 2.0, 95, id="clamped-above"),
        pytest.param((40, 95), -1.0, 40, id="clamped-below"),
    ],
)
async def test_progress_is_mapped_into_the_jobs_slice_and_published(
    queue: JobQueue, progress_slice: tuple[int, int] | None, fraction: float, published: int
) -> None:
    context = JobContext(await claim(queue), queue)
    AdapterRun(context, progress_slice).progress(fraction)
    assert context.has_unpublished()
    await context.beat()
    assert (await job_row(queue, context.job.id)).progress == published


async def test_remembered_values_survive_into_the_next_attempt(queue: JobQueue) -> None:
    first = JobContext(await claim(queue), queue)
    run = AdapterRun(first, (5, 90))
    assert run.recall("upstream_task") is None
    await run.remember("upstream_task", {"task_id": "t-1", "provider": "kie"})
    assert run.recall("upstream_task") == {"task_id": "t-1", "provider": "kie"}

    row = await job_row(queue, first.job.id)
    assert row.checkpoint == {"adapter.upstream_task": {"task_id": "t-1", "provider": "kie"}}

    assert await queue.release(first.job)  # the worker stopped: another one resumes the job
    again = await queue.claim("another-worker", [KIND])
    assert again is not None and again.id == first.job.id
    resumed = AdapterRun(JobContext(again, queue))
    assert resumed.recall("upstream_task") == {"task_id": "t-1", "provider": "kie"}
