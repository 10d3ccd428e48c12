"""``GET /metrics`` scraped after known traffic: each value checked against what was done.

The counters are the process's (shared by every app a test session builds), so they are read as
differences; what comes from the database (queue, credits) is exact for each test's own database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from knightvision.job.errors import JobFailure
from knightvision.providers.video_model.port import GenerationError
from knightvision.video.service import VIDEO_JOB_KIND
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fakes.evolink import FakeEvoLink
from tests.fixtures.harness import API, Harness
from tests.fixtures.video_models import MemoryRun, evolink_adapter, spec

VIDEO = {"prompt": "A lighthouse at dusk", "model": "local-storyboard", "duration": 2}


async def scrape(
    harness: Harness, **headers: str
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await harness.client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_and_status(api: Harness) -> None:
    partner = await api.partner()
    route = f"{API}/video-status/{{job_id}}"
    before = await scrape(api)
    for _ in range(3):
        assert (
            await api.client.get(f"{API}/credits", headers=partner["headers"])
        ).status_code == 200
    for job_id in ("local_20261128_141500_abc123", "local_20261128_141500_def456"):
        missing = await api.client.get(f"{API}/video-status/{job_id}", headers=partner["headers"])
        assert missing.status_code == 404
    assert (await api.client.get(f"{API}/credits")).status_code == 401
    assert (await api.client.get("/no/such/path/0123")).status_code == 404
    after = await scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "knightvision_http_requests_total"
    assert delta(requests, route=f"{API}/credits", method="GET", status="200") == 3
    assert delta(requests, route=f"{API}/credits", method="GET", status="401") == 1
    # Job ids never become labels: both lookups count under the route's template.
    assert delta(requests, route=route, method="GET", status="404") == 2
    assert delta(requests, route="unmatched", method="GET", status="404") == 1
    assert not any("abc123" in str(labels) for _, labels in after)
    latency = "knightvision_http_request_duration_seconds"
    assert delta(f"{latency}_count", route=f"{API}/credits", method="GET") == 4
    assert delta(f"{latency}_bucket", route=f"{API}/credits", method="GET", le="+Inf") == 4
    assert delta(f"{latency}_sum", route=f"{API}/credits", method="GET") > 0


async def test_429s_are_counted_by_the_limit_that_refused(
    make_harness: Callable[..., Awaitable[Harness]],
) -> None:
    api = await make_harness(rate_limits={"credits": 2})
    partner = await api.partner()
    before = await scrape(api)
    statuses = [
        (await api.client.get(f"{API}/credits", headers=partner["headers"])).status_code
        for _ in range(5)
    ]
    after = await scrape(api)
    assert statuses == [200, 200, 429, 429, 429]
    limited = "knightvision_rate_limited_total"
    assert value(after, limited, reason="credits") - value(before, limited, reason="credits") == 3
    requests = "knightvision_http_requests_total"
    labels = {"route": f"{API}/credits", "method": "GET", "status": "429"}
    assert value(after, requests, **labels) - value(before, requests, **labels) == 3


async def test_queue_depth_oldest_wait_and_credits_come_from_the_database(api: Harness) -> None:
    partner = await api.partner(credits=1000)
    submitted = []
    for _ in range(3):
        answer = await api.client.post(
            f"{API}/generate-video", headers=partner["headers"], json=VIDEO
        )
        assert answer.status_code == 200, answer.text
        submitted.append(answer.json())
    charged = sum(job["credits_used"] for job in submitted)

    queued = await scrape(api)
    assert value(queued, "knightvision_queue_jobs", kind=VIDEO_JOB_KIND, state="queued") == 3
    assert value(queued, "knightvision_queue_jobs", kind=VIDEO_JOB_KIND, state="running") == 0
    assert value(queued, "knightvision_queue_oldest_seconds", kind=VIDEO_JOB_KIND) >= 0
    assert value(queued, "knightvision_credits_debited_total") == charged
    assert value(queued, "knightvision_credits_refunded_total") == 0

    # One job claimed (running), one failed for good (refunded), one left waiting.
    queue = api.container.queue
    running = await queue.claim("metrics-test", [VIDEO_JOB_KIND])
    failed = await queue.claim("metrics-test", [VIDEO_JOB_KIND])
    assert running is not None and failed is not None
    await queue.fail(failed, JobFailure("upstream_auth", "refused", retryable=False))
    after = await scrape(api)
    assert value(after, "knightvision_queue_jobs", kind=VIDEO_JOB_KIND, state="queued") == 1
    assert value(after, "knightvision_queue_jobs", kind=VIDEO_JOB_KIND, state="running") == 1
    assert value(after, "knightvision_credits_debited_total") == charged
    assert value(after, "knightvision_credits_refunded_total") == failed.credits_used > 0


async def test_job_stage_durations_are_observed_per_kind_and_stage(api: Harness) -> None:
    partner = await api.partner()
    answer = await api.client.post(f"{API}/generate-video", headers=partner["headers"], json=VIDEO)
    assert answer.status_code == 200, answer.text

    async def two_stages(context: JobContext) -> dict[str, str]:
        from knightvision.job.status import JobStatus

        await context.report(status=JobStatus.PROCESSING, progress=10)
        await context.report(status=JobStatus.FINALIZING, progress=90)
        return {}

    runner = WorkerRunner(
        api.container.queue, {VIDEO_JOB_KIND: two_stages}, slots=1, poll_interval=0.05
    )
    stage = "knightvision_job_stage_duration_seconds_count"
    before = await scrape(api)
    job = await api.container.queue.claim(runner.worker_id, [VIDEO_JOB_KIND])
    assert job is not None
    await runner.execute(job)
    after = await scrape(api)
    for name in ("started", "processing", "finalizing"):
        labels = {"kind": VIDEO_JOB_KIND, "stage": name}
        assert value(after, stage, **labels) - value(before, stage, **labels) == 1, name


async def test_upstream_calls_and_errors_by_provider_and_code(
    api: Harness, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    evolink.script.polls_to_finish = 0
    calls, errors = "knightvision_upstream_requests_total", "knightvision_upstream_errors_total"
    before = await scrape(api)
    await evolink_adapter(evolink).generate(spec("sora-2", 10), tmp_path / "ok.mp4", MemoryRun())
    with pytest.raises(GenerationError):
        await evolink_adapter(evolink, api_key="sk-wrong").generate(
            spec("sora-2", 10), tmp_path / "refused.mp4", MemoryRun()
        )
    after = await scrape(api)

    def delta(name: str, code: str) -> float:
        labels = {"provider": "evolink", "code": code}
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta(calls, "200") >= 2  # the create and the finished poll (and the download)
    assert delta(errors, "200") == 0
    assert delta(calls, "401") == delta(errors, "401") == 1


async def test_a_metrics_token_keeps_metrics_private_and_off_removes_them(
    make_harness: Callable[..., Awaitable[Harness]],
) -> None:
    private = await make_harness(metrics_token="scrape-secret")
    refused = await private.client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
    wrong = await private.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert await scrape(private, Authorization="Bearer scrape-secret")

    off = await make_harness(metrics=False)
    assert (await off.client.get("/metrics")).status_code == 404


async def test_language_model_calls_are_counted_with_a_retried_429(api: Harness) -> None:
    """A 429 the client retries is still an upstream error an operator sees in the metrics."""
    from knightvision.providers.llm.openai_compat import OpenAICompatChat, OpenAICompatConfig
    from knightvision.providers.llm.port import ChatMessage
    from tests.fakes.openai_chat import FakeOpenAIChat, Reply, completion, error_body

    calls, errors = "knightvision_upstream_requests_total", "knightvision_upstream_errors_total"
    before = await scrape(api)
    with FakeOpenAIChat() as server:
        server.script(
            Reply(429, error_body("slow down"), {"Retry-After": "0"}),
            Reply(body=completion('{"ok": true}')),
        )
        chat = OpenAICompatChat(
            OpenAICompatConfig(base_url=server.base_url, model="m", api_key="sk-test"),
            sleep=lambda seconds: None,
        )
        await asyncio.to_thread(
            chat.complete,
            [ChatMessage("user", "Reply in JSON")],
            response_format_json=True,
            timeout=5,
        )
    after = await scrape(api)

    def delta(name: str, code: str) -> float:
        labels = {"provider": "llm", "code": code}
        return value(after, name, **labels) - value(before, name, **labels)

    assert (delta(calls, "429"), delta(errors, "429")) == (1, 1)
    assert (delta(calls, "200"), delta(errors, "200")) == (1, 0)
