"""Kling's own API against the fake: JWT auth, external_task_id, envelope error codes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from knightvision.providers.video_model.kling import kling_jwt
from tests.fakes.kling import FakeKling
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import (
    MemoryRun,
    RecordingSleep,
    assert_shape,
    failure,
    kling_adapter,
    spec,
)


def test_jwt_claims_and_signature() -> None:
    now = 1_800_000_000
    token = kling_jwt("ak-1", "a-long-enough-secret-for-hs256-0123", now)
    decoded = jwt.decode(token, OctKey.import_key("a-long-enough-secret-for-hs256-0123"))
    assert decoded.header == {"alg": "HS256", "typ": "JWT"}
    assert decoded.claims == {"iss": "ak-1", "exp": now + 1800, "nbf": now - 5}


async def test_v3_success_with_external_task_id(
    kling: FakeKling, run: MemoryRun, output: Path
) -> None:
    kling.script.polls_to_finish = 2
    s = spec("kling-v3", 5, "16:9", "720p", job_id="kling_20260327_101010_k1k1k1")
    provenance = await kling_adapter(kling).generate(s, output, run)
    assert kling.requests_to("/v1/videos/text2video", "POST")[0]["json"] == {
        "model_name": "kling-v3",
        "prompt": s.prompt,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "std",
        "external_task_id": "kv-kling_20260327_101010_k1k1k1-0",
    }
    assert_shape(output, s)
    assert provenance["upstream_task_id"] == run.memory["upstream_task"]["task_id"]
    assert len(kling.tokens_seen) == 1  # one token, reused while it is fresh


async def test_older_model_reaches_seven_seconds_by_trimming_ten(
    kling: FakeKling, run: MemoryRun, output: Path
) -> None:
    kling.script.polls_to_finish = 0
    s = spec("kling-v2-6", 7, "16:9")
    provenance = await kling_adapter(kling).generate(s, output, run)
    assert kling.requests_to("/v1/videos/text2video", "POST")[0]["json"]["duration"] == "10"
    assert provenance["transforms"] == ["trim 10.00 s to 7 s"]
    assert_shape(output, s)


async def test_a_1080p_job_rendered_at_360p_fails_instead_of_being_upscaled(
    kling: FakeKling, run: MemoryRun, output: Path
) -> None:
    kling.script.polls_to_finish = 0
    kling.script.deliver = (640, 360, 5)  # the upstream ignored mode "pro"
    error = await failure(
        kling_adapter(kling).generate(spec("kling-v3", 5, "16:9", "1080p"), output, run)
    )
    assert (error.code, error.retryable) == ("upstream_failed", False)
    assert kling.requests_to("/v1/videos/text2video", "POST")[0]["json"]["mode"] == "pro"


async def test_wrong_secret_is_upstream_auth(
    kling: FakeKling, run: MemoryRun, output: Path
) -> None:
    adapter = kling_adapter(kling, secret_key="not-the-secret-but-long-enough-000000")
    error = await failure(adapter.generate(spec("kling-v3", 5, "16:9"), output, run))
    assert (error.code, error.retryable) == ("upstream_auth", False)


@pytest.mark.parametrize(
    ("canned", "code", "retryable"),
    [
        (
            Canned(401, {"code": 1004, "message": "Authorization has expired"}),
            "upstream_auth",
            False,
        ),
        (
            Canned(429, {"code": 1101, "message": "Account arrears"}),
            "insufficient_upstream_credits",
            False,
        ),
        (
            Canned(429, {"code": 1102, "message": "Resource pack exhausted"}),
            "upstream_quota",
            False,
        ),
        (Canned(400, {"code": 1201, "message": "duration is invalid"}), "upstream_rejected", False),
        (
            Canned(400, {"code": 1301, "message": "Content security policy"}),
            "moderation_blocked",
            False,
        ),
        (
            Canned(500, {"code": 5000, "message": "Server internal error"}),
            "upstream_unavailable",
            True,
        ),
        (Canned(503, "<html>"), "upstream_unavailable", True),
        (Canned(200, {"code": 0, "message": "SUCCESS", "data": {}}), "upstream_malformed", True),
    ],
)
async def test_create_failures(
    kling: FakeKling, run: MemoryRun, output: Path, canned: Canned, code: str, retryable: bool
) -> None:
    kling.script.create_responses = [canned]
    error = await failure(kling_adapter(kling).generate(spec("kling-v3", 5, "16:9"), output, run))
    assert (error.code, error.retryable) == (code, retryable), error.detail


async def test_concurrency_limit_1303_is_waited_out(
    kling: FakeKling, run: MemoryRun, output: Path
) -> None:
    kling.script.polls_to_finish = 0
    kling.script.create_responses = [
        Canned(
            429,
            {"code": 1303, "message": "parallel task over resource pack limit"},
            {"Retry-After": "2"},
        )
    ]
    sleep = RecordingSleep()
    await kling_adapter(kling, sleep=sleep).generate(spec("kling-v3", 3, "1:1"), output, run)
    assert kling.tasks_created == 1 and kling.create_calls == 2


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Failure to pass the risk control system", "moderation_blocked"),
        ("Internal error", "upstream_failed"),
    ],
)
async def test_failed_tasks(
    kling: FakeKling, run: MemoryRun, output: Path, message: str, code: str
) -> None:
    kling.script.polls_to_finish = 1
    kling.script.outcome = "failed"
    kling.script.failure = {"message": message}
    error = await failure(kling_adapter(kling).generate(spec("kling-v3", 5, "16:9"), output, run))
    assert (error.code, error.retryable) == (code, False)


async def test_token_is_renewed_before_it_expires(kling: FakeKling, output: Path) -> None:
    clock = [time.time()]
    adapter = kling_adapter(kling, clock=lambda: clock[0])
    first = adapter._headers()["Authorization"]
    clock[0] += 1000
    assert adapter._headers()["Authorization"] == first
    clock[0] += 600  # within five minutes of exp
    assert adapter._headers()["Authorization"] != first
