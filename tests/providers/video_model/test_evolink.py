"""EvoLink adapter against the fake EvoLink: request mapping, success, every failure's code."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.providers.video_model.evolink import idempotency_key
from knightvision.providers.video_model.port import GenerationError
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import (
    MemoryRun,
    RecordingSleep,
    assert_shape,
    evolink_adapter,
    failure,
    spec,
)


async def test_sora_2_success_downloads_and_remembers(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 3
    s = spec("sora-2", 10, "9:16")
    provenance = await evolink_adapter(evolink).generate(s, output, run)

    assert_shape(output, s)
    sent = evolink.requests_to("/v1/videos/generations")[0]
    assert sent["json"] == {
        "model": "sora-2",
        "prompt": s.prompt,
        "duration": 10,
        "aspect_ratio": "9:16",
        "remove_watermark": True,
    }
    assert sent["headers"]["authorization"] == f"Bearer {evolink.api_key}"
    # A UUID derived from our job id (D14): the same on every attempt of this submission.
    assert sent["headers"]["idempotency-key"] == idempotency_key("kv-sora_20260323_141500_abc123-0")
    assert run.memory["upstream_submission"]["key"] == "kv-sora_20260323_141500_abc123-0"
    assert provenance["upstream_task_id"].startswith("task-unified-")
    assert run.memory["upstream_task"]["task_id"] == provenance["upstream_task_id"]
    assert provenance["transforms"] == [] and provenance["resumed"] is False
    assert evolink.poll_calls == 4 and evolink.tasks_created == 1
    # Slow progress is reported as it comes, rising to done.
    assert (
        run.fractions == sorted(run.fractions)
        and run.fractions[-1] == 1.0
        and len(set(run.fractions)) > 4
    )


@pytest.mark.parametrize(("duration", "quality"), [(15, "high"), (25, "standard")])
def test_sora_2_pro_quality_follows_duration(
    evolink: FakeEvoLink, duration: int, quality: str
) -> None:
    adapter = evolink_adapter(evolink)
    s = spec("sora-2-pro", duration, "16:9")
    _, plan = adapter.plan(s)
    assert adapter.request_body(s, plan) == {
        "model": "sora-2-pro",
        "prompt": s.prompt,
        "duration": duration,
        "aspect_ratio": "16:9",
        "quality": quality,
        "remove_watermark": True,
    }


async def test_sora_2_pro_25s_small_render_is_refused_not_upscaled(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    evolink.script.deliver = (640, 360, 25)  # an upstream that renders smaller than asked
    s = spec("sora-2-pro", 25, "16:9")
    error = await failure(evolink_adapter(evolink).generate(s, output, run))
    assert evolink.requests_to("/v1/videos/generations")[0]["json"]["quality"] == "standard"
    assert (error.code, error.retryable) == ("upstream_failed", False)


async def test_kling_1080p_square_is_native(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 1
    evolink.script.options["result_data"] = True  # the link in result_data.video_url, not results[]
    s = spec("kling-o3-text-to-video", 3, "1:1", "1080p")
    provenance = await evolink_adapter(evolink).generate(s, output, run)
    assert evolink.requests_to("/v1/videos/generations")[0]["json"] == {
        "model": "kling-o3-text-to-video",
        "prompt": s.prompt,
        "duration": 3,
        "aspect_ratio": "1:1",
        "quality": "1080p",
        "sound": "off",
    }
    assert_shape(output, s)
    assert provenance["transforms"] == []


async def test_square_sora_is_rendered_wide_and_centre_cropped(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    s = spec("sora-2", 10, "1:1")
    provenance = await evolink_adapter(evolink).generate(s, output, run)
    assert evolink.requests_to("/v1/videos/generations")[0]["json"]["aspect_ratio"] == "16:9"
    assert provenance["planned_transforms"] == ["crop"]
    assert provenance["transforms"] == ["crop 1280x720 to centre 720x720"]
    assert_shape(output, s)


@pytest.mark.parametrize(
    ("canned", "code", "retryable"),
    [
        (
            Canned(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Invalid or expired token",
                        "type": "authentication_error",
                    }
                },
            ),
            "upstream_auth",
            False,
        ),
        (
            Canned(
                403,
                {
                    "error": {
                        "code": "key_model_not_allowed",
                        "message": "Access denied for this model",
                        "type": "permission_error",
                    }
                },
            ),
            "upstream_auth",
            False,
        ),
        (
            Canned(
                402,
                {
                    "error": {
                        "code": 402,
                        "message": "Insufficient quota",
                        "type": "insufficient_quota_error",
                    }
                },
            ),
            "insufficient_upstream_credits",
            False,
        ),
        (
            Canned(
                402,
                {
                    "error": {
                        "code": "key_daily_quota_exhausted",
                        "message": "daily limit",
                        "type": "insufficient_quota_error",
                    }
                },
            ),
            "upstream_quota",
            False,
        ),
        (
            Canned(
                400,
                {
                    "error": {
                        "code": 400,
                        "message": "Invalid duration parameter",
                        "type": "invalid_request_error",
                        "param": "duration",
                    }
                },
            ),
            "upstream_rejected",
            False,
        ),
        (
            Canned(
                400,
                {
                    "error": {
                        "code": "content_policy_violation",
                        "message": "blocked",
                        "type": "invalid_request_error",
                    }
                },
            ),
            "moderation_blocked",
            False,
        ),
        (
            Canned(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": "Specified model not found",
                        "type": "not_found_error",
                        "param": "model",
                    }
                },
            ),
            "upstream_rejected",
            False,
        ),
        (
            Canned(
                500,
                {
                    "error": {
                        "code": 500,
                        "message": "try again later",
                        "type": "internal_server_error",
                    }
                },
            ),
            "upstream_unavailable",
            True,
        ),
        (
            Canned(
                502,
                {
                    "error": {
                        "code": 502,
                        "message": "Upstream AI service unavailable",
                        "type": "upstream_error",
                    }
                },
            ),
            "upstream_unavailable",
            True,
        ),
        (Canned(503, "<html>Service Unavailable</html>"), "upstream_unavailable", True),
        (Canned(200, "not json"), "upstream_malformed", True),  # idempotent create: a retry replays
        (Canned(200, {"object": "video.generation.task"}), "upstream_malformed", True),
    ],
)
async def test_create_failures_map_to_stable_codes(
    evolink: FakeEvoLink, run: MemoryRun, output: Path, canned: Canned, code: str, retryable: bool
) -> None:
    evolink.script.create_responses = [canned]
    error = await failure(evolink_adapter(evolink).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail
    # A stat of a local temporary file: nothing for the event loop to wait on.
    assert "upstream_task" not in run.memory and not output.exists()  # noqa: ASYNC240


async def test_wrong_key_against_the_fake_is_upstream_auth(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    error = await failure(
        evolink_adapter(evolink, api_key="sk-wrong").generate(spec("sora-2", 10), output, run)
    )
    assert (error.code, error.retryable) == ("upstream_auth", False)


async def test_rate_limited_create_waits_retry_after_then_succeeds(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    limited = {
        "error": {
            "code": "rate_limit_exceeded",
            "message": "retry after 60 seconds",
            "type": "rate_limit_error",
        }
    }
    evolink.script.create_responses = [Canned(429, limited, {"Retry-After": "7"})]
    sleep = RecordingSleep()
    await evolink_adapter(evolink, sleep=sleep).generate(spec("sora-2", 10), output, run)
    assert evolink.create_calls == 2 and evolink.tasks_created == 1
    assert 0.05 in sleep.waits  # 7 s asked, capped by this test policy's max_rate_limit_wait


async def test_persistent_rate_limit_on_create_is_retryable_unavailable(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.create_responses = [
        Canned(429, {"error": {"code": 429, "message": "slow down", "type": "rate_limit_error"}})
    ] * 3
    error = await failure(
        evolink_adapter(evolink, sleep=RecordingSleep()).generate(spec("sora-2", 10), output, run)
    )
    assert (error.code, error.retryable) == ("upstream_unavailable", True)
    assert evolink.tasks_created == 0


async def test_polls_ride_out_429_and_5xx(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 1
    limited = {"error": {"code": 429, "message": "Rate limit exceeded", "type": "rate_limit_error"}}
    evolink.script.poll_responses = [
        Canned(429, limited, {"Retry-After": "3"}),
        Canned(503, "busy"),
        Canned(429, limited, {"Retry-After": "3"}),
        Canned(
            502,
            {
                "error": {
                    "code": 502,
                    "message": "Upstream AI service unavailable",
                    "type": "upstream_error",
                }
            },
        ),
    ]
    sleep = RecordingSleep()
    await evolink_adapter(evolink, sleep=sleep).generate(spec("sora-2", 10), output, run)
    assert evolink.poll_calls == 6 and evolink.create_calls == 1


@pytest.mark.parametrize(
    ("task_error", "code", "retryable", "forgotten"),
    [
        (
            {
                "code": "content_policy_violation",
                "message": "Your request was blocked by safety filters",
            },
            "moderation_blocked",
            False,
            False,
        ),
        ({"code": "invalid_parameters", "message": "bad"}, "upstream_rejected", False, False),
        (
            {"code": "generation_failed_no_content", "message": "nothing"},
            "upstream_failed",
            False,
            False,
        ),
        ({"code": "service_error", "message": "internal"}, "upstream_failed", True, True),
        ({"code": "resource_exhausted", "message": "capacity"}, "upstream_failed", True, True),
        (
            {"status": "cancelled", "code": "request_cancelled", "message": "cancelled"},
            "upstream_failed",
            True,
            True,
        ),
    ],
)
async def test_failed_tasks(
    evolink: FakeEvoLink,
    run: MemoryRun,
    output: Path,
    task_error: dict,
    code: str,
    retryable: bool,
    forgotten: bool,
) -> None:
    evolink.script.polls_to_finish = 1
    evolink.script.outcome = "failed"
    evolink.script.failure = task_error
    error = await failure(evolink_adapter(evolink).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail
    # A retryable remote failure forgets the task, so the next attempt submits afresh (new key).
    assert (run.memory.get("upstream_task") is None) == forgotten
    if forgotten:
        assert run.memory["upstream_resubmits"] == 1


async def test_retry_after_a_remote_failure_submits_with_a_new_key(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    evolink.script.outcome = "failed"
    adapter = evolink_adapter(evolink)
    await failure(adapter.generate(spec("sora-2", 10), output, run))
    evolink.script.outcome = "success"
    await adapter.generate(spec("sora-2", 10), output, run)
    keys = [r["headers"]["idempotency-key"] for r in evolink.requests_to("/v1/videos/generations")]
    assert keys == [idempotency_key(f"kv-sora_20260323_141500_abc123-{n}") for n in (0, 1)]
    assert evolink.tasks_created == 2


async def test_integer_error_codes_and_unknown_task(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.options["int_codes"] = True
    run.memory["upstream_task"] = {
        "adapter": "evolink",
        "task_id": "task-unified-1757169743-gone0000",
        "key": "kv-x-0",
        "submitted_at": 4e9,
    }
    error = await failure(evolink_adapter(evolink).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == ("upstream_failed", True)
    assert run.memory["upstream_task"] is None  # the next attempt submits a new task


async def test_never_finishing_task_times_out(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    from dataclasses import replace

    from tests.fixtures.video_models import FAST

    evolink.script.never_finish = True
    error = await failure(
        evolink_adapter(evolink, policy=replace(FAST, timeout=0.3)).generate(
            spec("sora-2", 10), output, run
        )
    )
    assert (error.code, error.retryable) == ("upstream_timeout", False)


async def test_slow_answers_are_retryable_unavailable(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    from tests.fixtures.video_models import short_timeout_client

    evolink.script.poll_delay = 0.6
    adapter = evolink_adapter(evolink, http_client_factory=short_timeout_client)
    error = await failure(adapter.generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == ("upstream_unavailable", True)
    assert run.memory["upstream_task"]["task_id"]  # kept: the retry polls the same task


async def test_malformed_poll_answers_fail_retryably_keeping_the_task(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.poll_responses = [Canned(200, "<html>gateway</html>"), Canned(200, {"id": "x"})]
    error = await failure(evolink_adapter(evolink).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == ("upstream_malformed", True)
    assert run.memory["upstream_task"]["task_id"]


async def test_expired_link_is_fetched_again_once(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    evolink.script.download_responses = [Canned(404, "expired")]
    await evolink_adapter(evolink).generate(spec("sora-2", 10), output, run)
    assert (
        evolink.download_calls == 2 and evolink.poll_calls == 2
    )  # the re-read of the task gave the link again


async def test_dead_link_twice_fails_upstream_unavailable(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    evolink.script.polls_to_finish = 0
    evolink.script.download_responses = [Canned(404, "expired"), Canned(410, "gone")]
    error = await failure(evolink_adapter(evolink).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == ("upstream_unavailable", False)


async def test_wrong_aspect_or_short_render_is_refused(evolink: FakeEvoLink, output: Path) -> None:
    evolink.script.polls_to_finish = 0
    evolink.script.deliver = (1280, 720, 10)  # landscape when portrait was asked for
    error = await failure(
        evolink_adapter(evolink).generate(spec("sora-2", 10, "9:16"), output, MemoryRun())
    )
    assert error.code == "upstream_failed" and "9:16" in error.detail
    evolink.script.deliver = (720, 1280, 8)
    error = await failure(
        evolink_adapter(evolink).generate(
            spec("sora-2", 10, "9:16", job_id="sora_x_2"), output, MemoryRun()
        )
    )
    assert error.code == "upstream_failed" and "shorter" in error.detail


def test_unavailable_without_a_key(evolink: FakeEvoLink) -> None:
    assert evolink_adapter(evolink).available()
    assert not evolink_adapter(evolink, api_key=None).available()
    assert not evolink_adapter(evolink, api_key="").available()


async def test_a_shape_the_route_cannot_reach_is_refused_before_calling(
    evolink: FakeEvoLink, run: MemoryRun, output: Path
) -> None:
    error = await failure(
        evolink_adapter(evolink).generate(spec("sora-2", 10, resolution="1080p"), output, run)
    )
    assert error.code == "generation_unavailable" and evolink.create_calls == 0
    assert isinstance(error, GenerationError)
