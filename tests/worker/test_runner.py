"""The worker runner on a real queue, on SQLite and PostgreSQL: retries, crashes, checkpoints,
shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

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


@pytest.mark.parametrize("off_slot", [False, True], ids=["on-its-slot", "waiting-off-its-slot"])
async def test_shutdown_hands_the_job_back_without_counting_the_attempt(
    queue: JobQueue, off_slot: bool
) -> None:
    account = await new_account(queue)
    job_id = await submit_job(queue, account)
    started = asyncio.Event()

    async def slow(context: JobContext) -> dict[str, Any]:
        async with context.off_slot() if off_slot else contextlib.nullcontext():
            started.set()
            await asyncio.sleep(60)
        return {}

    runner = WorkerRunner(queue, {KIND: slow}, slots=1, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(started.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 10)
    row = await job_row(queue, job_id)
    assert (row.finished_at, row.lease_token, row.attempts) == (None, None, 0)
    resumed = await queue.claim("w2", [KIND])
    assert resumed is not None and resumed.id == job_id


async def test_a_job_waiting_off_its_slot_lets_the_next_job_run(queue: JobQueue) -> None:
    account = await new_account(queue)
    waiter = await submit_job(queue, account, {"wait": True})
    waiting, answered = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def handler(context: JobContext) -> dict[str, Any]:
        if context.params.get("wait"):
            async with context.off_slot():
                waiting.set()
                await answered.wait()  # the remote service has not answered yet
            order.append("waiter back on a slot")
            return {}
        order.append("other ran")
        answered.set()  # the service answers only after the other job has run on the one slot
        return {}

    runner = WorkerRunner(queue, {KIND: handler}, slots=1, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(waiting.wait(), 10)
    other = await submit_job(queue, account)
    runner.wake()
    for _ in range(200):
        if all([(await job_row(queue, j)).finished_at for j in (waiter, other)]):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert order == ["other ran", "waiter back on a slot"]
    assert [(await job_row(queue, j)).status for j in (waiter, other)] == ["complete"] * 2


async def test_jobs_off_their_slots_are_bounded_and_queue_for_a_slot_again(
    queue: JobQueue,
) -> None:
    account = await new_account(queue)
    job_ids = [await submit_job(queue, account) for _ in range(4)]
    held, most_held, on_slot, most_on_slot = 0, 0, 0, 0
    release = asyncio.Event()

    async def handler(context: JobContext) -> dict[str, Any]:
        nonlocal held, most_held, on_slot, most_on_slot
        held += 1
        most_held = max(most_held, held)
        async with context.off_slot():
            await release.wait()
        on_slot += 1
        most_on_slot = max(most_on_slot, on_slot)
        await asyncio.sleep(0.05)  # work on the slot again
        on_slot -= 1
        held -= 1
        return {}

    runner = WorkerRunner(queue, {KIND: handler}, slots=1, poll_interval=0.05, waiting=2)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    for _ in range(100):  # one slot plus two waiting: three jobs held, the fourth stays queued
        if held == 3:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert (held, (await job_row(queue, job_ids[3])).attempts) == (3, 0)
    release.set()
    for _ in range(200):
        if all([(await job_row(queue, j)).finished_at for j in job_ids]):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert (most_held, most_on_slot) == (3, 1)
    assert {(await job_row(queue, j)).status for j in job_ids} == {"complete"}
