"""The worker runner on a real queue, on SQLite and PostgreSQL: retries, crashes, checkpoints,
shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

from knightvision.job.errors import JobFailure
from knightvision.job.queue import JobQueue
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.job_queue import (
    COST,
    KIND,
    balances,
    job_row,
    new_account,
    run_until_finished,
    submit_job,
)


async def test_runner_retries_retryable_failures_then_succeeds(
    queue: JobQueue, monkeypatch
) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    calls: list[int] = []

    async def flaky(context: JobContext) -> dict[str, Any]:
        calls.append(context.job.attempts)
        if len(calls) < 3:
            raise JobFailure("upstream_unavailable", "try again", retryable=True)
        return {"attempts": context.job.attempts}

    await run_until_finished(queue, flaky, [job_id])
    row = await job_row(queue, job_id)
    assert calls == [1, 2, 3]
    assert (row.status, row.result, row.credits_refunded) == ("complete", {"attempts": 3}, 0)
    assert "upstream_unavailable" in row.last_error


async def test_runner_gives_up_after_max_attempts_and_refunds(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.05)
    account = await new_account(queue)
    job_id = await submit_job(queue, account)

    async def always_down(context: JobContext) -> dict[str, Any]:
        raise JobFailure("upstream_unavailable", "down", retryable=True, stage="generating")

    await run_until_finished(queue, always_down, [job_id])
    row = await job_row(queue, job_id)
    assert (row.status, row.attempts, row.error_code, row.retryable, row.credits_refunded) == (
        "error",
        3,
        "upstream_unavailable",
        True,
        COST,
    )
    assert await balances(queue, account) == (100, 100)


async def test_runner_turns_crashes_into_internal_errors_and_keeps_going(
    queue: JobQueue, monkeypatch
) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.01)
    account = await new_account(queue)
    broken, healthy = (
        await submit_job(queue, account, {"crash": True}),
        await submit_job(queue, account),
    )

    async def handler(context: JobContext) -> dict[str, Any]:
        if context.params.get("crash"):
            raise ZeroDivisionError("bug")
        return {"fine": True}

    await run_until_finished(queue, handler, [broken, healthy])
    assert (await job_row(queue, broken)).error_code == "internal_error"
    assert (await job_row(queue, healthy)).status == "complete"
    assert await balances(queue, account) == (100 - COST, 100 - COST)


async def test_progress_and_checkpoints_survive_a_retry(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr("knightvision.job.queue.retry_delay", lambda attempt: 0.01)
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    stages_run: list[str] = []

    async def staged(context: JobContext) -> dict[str, Any]:
        if "first" not in context.checkpoint:
            stages_run.append("first")
            await context.report(status="processing", message="first stage", progress=40)
            await context.save_checkpoint(first="done")
            raise JobFailure("upstream_unavailable", "blip", retryable=True)
        stages_run.append("second")
        return {"first": context.checkpoint["first"]}

    await run_until_finished(queue, staged, [job_id])
    row = await job_row(queue, job_id)
    assert stages_run == ["first", "second"]
    assert (row.status, row.result, row.checkpoint) == (
        "complete",
        {"first": "done"},
        {"first": "done"},
    )


async def test_shutdown_hands_the_job_back_without_counting_the_attempt(queue: JobQueue) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    started = asyncio.Event()

    async def slow(context: JobContext) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(60)
        return {}

    runner = WorkerRunner(queue, {KIND: slow}, slots=1, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await task
    row = await job_row(queue, job_id)
    assert (row.finished_at, row.lease_token, row.attempts) == (None, None, 0)
    resumed = await queue.claim("w2", [KIND])
    assert resumed is not None and resumed.id == job_id
