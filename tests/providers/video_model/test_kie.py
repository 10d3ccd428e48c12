"""kie adapter against the fake kie: Sora 2 / Sora 2 Pro (storyboard for 25 s) / Kling 3.0, and
errors that arrive as HTTP 200 with an error code in the body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.kie import FakeKie
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import (
    MemoryRun,
    RecordingSleep,
    assert_shape,
    failure,
    kie_adapter,
    spec,
)


async def test_sora_2_success(kie: FakeKie, run: MemoryRun, output: Path) -> None:
    kie.script.polls_to_finish = 3
    kie.script.options["message_key"] = "message"  # the envelope's other spelling
    s = spec("sora-2-text-to-video", 15, "16:9")
    provenance = await kie_adapter(kie).generate(s, output, run)
    assert kie.requests_to("createTask")[0]["json"] == {
        "model": "sora-2-text-to-video",
        "input": {
            "prompt": s.prompt,
            "aspect_ratio": "landscape",
            "n_frames": "15",
            "remove_watermark": True,
        },
    }
    assert_shape(output, s)
    assert provenance["upstream_task_id"] == run.memory["upstream_task"]["task_id"]
    assert kie.poll_calls == 4


def test_sora_2_pro_25s_goes_through_the_storyboard(kie: FakeKie) -> None:
    adapter = kie_adapter(kie)
    s = spec("sora-2-pro-text-to-video", 25, "9:16")
    _, plan = adapter.plan(s)
    assert adapter.request_body(s, plan) == {
        "model": "sora-2-pro-storyboard",
        "input": {
            "n_frames": "25",
            "aspect_ratio": "portrait",
            "shots": [{"Scene": s.prompt, "duration": 25}],
        },
    }
    fifteen = spec("sora-2-pro-text-to-video", 15, "9:16")
    _, plan = adapter.plan(fifteen)
    assert adapter.request_body(fifteen, plan)["input"]["size"] == "standard"


async def test_storyboard_render_end_to_end_square(
    kie: FakeKie, run: MemoryRun, output: Path
) -> None:
    kie.script.polls_to_finish = 0
    s = spec("sora-2-pro-text-to-video", 25, "1:1")
    provenance = await kie_adapter(kie).generate(s, output, run)
    sent = kie.requests_to("createTask")[0]["json"]
    assert sent["model"] == "sora-2-pro-storyboard" and sent["input"]["aspect_ratio"] == "landscape"
    assert provenance["transforms"] == ["crop 1280x720 to centre 720x720"]
    assert_shape(output, s)


async def test_kling_3_modes(kie: FakeKie, run: MemoryRun, output: Path) -> None:
    kie.script.polls_to_finish = 1
    s = spec("kling-3.0/video", 4, "9:16", "1080p")
    await kie_adapter(kie).generate(s, output, run)
    assert kie.requests_to("createTask")[0]["json"] == {
        "model": "kling-3.0/video",
        "input": {
            "prompt": s.prompt,
            "duration": "4",
            "aspect_ratio": "9:16",
            "mode": "pro",
            "sound": False,
            "multi_shots": False,
        },
    }
    assert_shape(output, s)


@pytest.mark.parametrize(
    ("canned", "code", "retryable"),
    [
        (
            Canned(200, {"code": 401, "msg": "You do not have access permissions"}),
            "upstream_auth",
            False,
        ),
        (
            Canned(
                200, {"code": 402, "msg": "The current credits are insufficient. Please top up."}
            ),
            "insufficient_upstream_credits",
            False,
        ),
        (
            Canned(200, {"code": 433, "msg": "sub-key usage limit exceeded"}),
            "upstream_quota",
            False,
        ),
        (Canned(200, {"code": 422, "msg": "n_frames is invalid"}), "upstream_rejected", False),
        (Canned(200, {"code": 404, "msg": "model not found"}), "upstream_rejected", False),
        (Canned(200, {"code": 455, "msg": "maintenance"}), "upstream_unavailable", True),
        # An internal error or a lost gateway answer may hide a task kie made: never resent.
        (Canned(200, {"code": 500, "msg": "server error"}), "upstream_unavailable", False),
        (Canned(200, {"code": 505, "msg": "feature disabled"}), "upstream_rejected", False),
        (Canned(502, "<html>bad gateway</html>"), "upstream_unavailable", False),
        (Canned(503, "<html>unavailable</html>"), "upstream_unavailable", True),
        (Canned(404, "Not Found"), "upstream_rejected", False),
        (
            Canned(200, {"code": 200, "msg": "success", "data": {}}),
            "upstream_malformed",
            False,
        ),  # no taskId: no safe retry
        (Canned(200, "<html>"), "upstream_malformed", False),
    ],
)
async def test_create_failures_including_http_200_body_codes(
    kie: FakeKie, run: MemoryRun, output: Path, canned: Canned, code: str, retryable: bool
) -> None:
    kie.script.create_responses = [canned]
    error = await failure(kie_adapter(kie).generate(spec("sora-2-text-to-video", 10), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail


async def test_body_code_429_is_waited_out(kie: FakeKie, run: MemoryRun, output: Path) -> None:
    kie.script.polls_to_finish = 0
    kie.script.create_responses = [
        Canned(200, {"code": 429, "msg": "request limit has been exceeded"})
    ]
    kie.script.poll_responses = [
        Canned(200, {"code": 429, "msg": "request limit has been exceeded"})
    ]
    await kie_adapter(kie, sleep=RecordingSleep()).generate(
        spec("sora-2-text-to-video", 10), output, run
    )
    assert kie.create_calls == 2 and kie.tasks_created == 1


@pytest.mark.parametrize(
    ("fail", "code", "retryable"),
    [
        ({"code": "500", "message": "Internal server error"}, "upstream_failed", True),
        (
            {"code": "400", "message": "Your prompt violates our content policy"},
            "moderation_blocked",
            False,
        ),
        ({"code": "422", "message": "bad params"}, "upstream_rejected", False),
        ({"code": "1", "message": "generation failed"}, "upstream_failed", False),
    ],
)
async def test_failed_tasks(
    kie: FakeKie, run: MemoryRun, output: Path, fail: dict, code: str, retryable: bool
) -> None:
    kie.script.polls_to_finish = 0
    kie.script.outcome = "failed"
    kie.script.failure = fail
    error = await failure(kie_adapter(kie).generate(spec("sora-2-text-to-video", 10), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail


async def test_poll_body_401_is_auth(kie: FakeKie, run: MemoryRun, output: Path) -> None:
    kie.script.poll_responses = [
        Canned(200, {"code": 401, "msg": "You do not have access permissions"})
    ]
    error = await failure(kie_adapter(kie).generate(spec("sora-2-text-to-video", 10), output, run))
    assert (error.code, error.retryable) == ("upstream_auth", False)


async def test_expired_link_is_renewed_through_download_url(
    kie: FakeKie, run: MemoryRun, output: Path
) -> None:
    kie.script.polls_to_finish = 0
    kie.script.download_responses = [Canned(403, "AccessDenied: Request has expired")]
    s = spec("sora-2-text-to-video", 10)
    await kie_adapter(kie).generate(s, output, run)
    renew = kie.requests_to("download-url")
    assert len(renew) == 1 and renew[0]["json"]["url"].endswith(".mp4")
    assert_shape(output, s)


def test_result_json_is_a_string_parsed_twice(kie: FakeKie) -> None:
    adapter = kie_adapter(kie)
    state = adapter.task_state(
        {
            "state": "success",
            "resultJson": json.dumps(
                {"resultUrls": ["https://x/y.mp4"], "resultWaterMarkUrls": ["https://x/w.mp4"]}
            ),
        }
    )
    assert state.result_url == "https://x/y.mp4"
    assert adapter.task_state({"state": "queuing"}).status == "running"
    assert adapter.task_state({"state": "something-new"}).status == "running"
