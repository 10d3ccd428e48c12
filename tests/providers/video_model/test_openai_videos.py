"""OpenAI Videos adapter against the fake: seconds/size mapping with trim, poll hints, content
download."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import (
    MemoryRun,
    RecordingSleep,
    assert_shape,
    failure,
    openai_adapter,
    spec,
)


async def test_sora_2_ten_seconds_renders_twelve_and_trims(
    openai_fake: FakeOpenAIVideos, run: MemoryRun, output: Path
) -> None:
    openai_fake.script.polls_to_finish = 2
    openai_fake.script.poll_headers = {"openai-poll-after-ms": "20"}
    sleep = RecordingSleep()
    s = spec("sora-2", 10, "9:16")
    provenance = await openai_adapter(openai_fake, sleep=sleep).generate(s, output, run)

    assert openai_fake.requests_to("/v1/videos", "POST")[0]["json"] == {
        "model": "sora-2",
        "prompt": s.prompt,
        "seconds": "12",
        "size": "720x1280",
    }
    assert provenance["planned_transforms"] == ["trim"] and provenance["transforms"] == [
        "trim 12.00 s to 10 s"
    ]
    assert_shape(output, s)
    assert 0.02 in sleep.waits  # the openai-poll-after-ms hint was honoured
    content = openai_fake.requests_to("/content")[0]
    assert content["headers"]["authorization"] == f"Bearer {openai_fake.api_key}" and content[
        "query"
    ] == {"variant": "video"}


@pytest.mark.parametrize(
    ("canned", "code", "retryable"),
    [
        (
            Canned(
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
            ),
            "upstream_auth",
            False,
        ),
        (
            Canned(
                429,
                {
                    "error": {
                        "message": "You exceeded your current quota",
                        "type": "insufficient_quota",
                        "param": None,
                        "code": "insufficient_quota",
                    }
                },
            ),
            "insufficient_upstream_credits",
            False,
        ),
        (
            Canned(
                400,
                {
                    "error": {
                        "message": "Your request was blocked by our moderation system.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "moderation_blocked",
                    }
                },
            ),
            "moderation_blocked",
            False,
        ),
        (
            Canned(
                400,
                {
                    "error": {
                        "message": "Invalid value for seconds",
                        "type": "invalid_request_error",
                        "param": "seconds",
                        "code": None,
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
                        "message": "The server had an error",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                },
            ),
            "upstream_unavailable",
            False,  # a 500 may hide a video OpenAI made: without a key, never resent
        ),
        (Canned(503, "overloaded"), "upstream_unavailable", True),
        (Canned(200, {"object": "video"}), "upstream_malformed", False),
    ],
)
async def test_create_failures(
    openai_fake: FakeOpenAIVideos,
    run: MemoryRun,
    output: Path,
    canned: Canned,
    code: str,
    retryable: bool,
) -> None:
    openai_fake.script.create_responses = [canned]
    error = await failure(
        openai_adapter(openai_fake, sleep=RecordingSleep()).generate(
            spec("sora-2", 10), output, run
        )
    )
    assert (error.code, error.retryable) == (code, retryable), error.detail


@pytest.mark.parametrize(
    ("task_error", "code", "retryable"),
    [
        (
            {"code": "moderation_blocked", "message": "Blocked by moderation"},
            "moderation_blocked",
            False,
        ),
        ({"code": "internal_error", "message": "Video generation failed"}, "upstream_failed", True),
        (
            {"code": "video_generation_failed", "message": "Could not generate"},
            "upstream_failed",
            False,
        ),
    ],
)
async def test_failed_videos(
    openai_fake: FakeOpenAIVideos,
    run: MemoryRun,
    output: Path,
    task_error: dict,
    code: str,
    retryable: bool,
) -> None:
    openai_fake.script.polls_to_finish = 1
    openai_fake.script.outcome = "failed"
    openai_fake.script.failure = task_error
    error = await failure(openai_adapter(openai_fake).generate(spec("sora-2", 10), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail


async def test_expired_content_is_retried_once_then_fails(
    openai_fake: FakeOpenAIVideos, run: MemoryRun, output: Path
) -> None:
    openai_fake.script.polls_to_finish = 0
    openai_fake.script.download_responses = [
        Canned(404, {"error": {"message": "expired", "type": "invalid_request_error"}})
    ]
    s = spec("sora-2", 10)
    await openai_adapter(openai_fake).generate(s, output, run)
    assert_shape(output, s)
    openai_fake.script.download_responses = [Canned(404, "gone"), Canned(404, "gone")]
    error = await failure(
        openai_adapter(openai_fake).generate(spec("sora-2", 10, job_id=None), output, MemoryRun())
    )
    assert (error.code, error.retryable) == ("upstream_unavailable", False)


def test_only_the_specs_seconds_are_sent(openai_fake: FakeOpenAIVideos) -> None:
    # The spec's enum is "4"/"8"/"12": 10 s renders 12 and is trimmed; 15 and 25 s have no
    # plan (the newer guide's "16"/"20" are refused by a strict upstream, after the charge).
    adapter = openai_adapter(openai_fake)
    ten = spec("sora-2-pro", 10, "16:9")
    _, plan = adapter.plan(ten)
    assert adapter.request_body(ten, plan) == {
        "model": "sora-2-pro",
        "prompt": ten.prompt,
        "seconds": "12",
        "size": "1280x720",
    }
    from knightvision.providers.video_model.port import GenerationError

    for seconds in (15, 25):
        with pytest.raises(GenerationError) as refused:
            adapter.plan(spec("sora-2-pro", seconds, "16:9"))
        assert refused.value.code == "generation_unavailable"


async def test_the_strict_fake_refuses_seconds_outside_the_spec(
    openai_fake: FakeOpenAIVideos,
) -> None:
    # What the catalogue guards against: the upstream itself answers 400 to "16".
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{openai_fake.base_url}/videos",
            json={"model": "sora-2", "prompt": "x", "seconds": "16", "size": "1280x720"},
            headers={"Authorization": f"Bearer {openai_fake.api_key}"},
        )
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "seconds"
    assert openai_fake.tasks_created == 0
