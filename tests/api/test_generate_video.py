"""POST /generate-video: parsing and validation (D4a, D6, D15), order of checks (D4), prices
(D12)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fixtures.harness import API
from tests.fixtures.partner_api import (
    LOCAL_JOB_ID,
    assert_error,
    assert_request_id,
    balance_of,
    generate,
    ledger_total,
    local,
    video_count,
)

PROMPT = "A person walking through a futuristic city"
JSON = {"Content-Type": "application/json"}

MISSING_PROMPT = ("Please provide a prompt", "missing_prompt")
LONG_PROMPT = ("Prompt must be 2000 characters or less", "prompt_too_long")


def control_in(field: str, code: str) -> tuple[str, str]:
    return f"{field} must not contain control characters (found U+{code})", "invalid_characters"


BAD_MODEL = ("Invalid model", "invalid_model")
BAD_DURATION = ("Invalid duration", "invalid_duration")
BAD_ASPECT = ("Invalid aspect_ratio", "invalid_aspect_ratio")
BAD_RESOLUTION = ("Invalid resolution", "invalid_resolution")
BAD_STYLE = ("Invalid style: must be one of upbeat, calm, dramatic, playful", "invalid_style")
UNAVAILABLE = ("Video generation not available", "generation_unavailable")
NOT_JSON = ("Request body must be JSON", "invalid_json")

KLING = ["kling-v3-text-to-video", "kling-o3-text-to-video"]


def _without_prompt(**fields):
    return {"model": "local-storyboard", **fields}


# Each row: a body and the exact (error, code) it must get with a 400.
INVALID_BODIES = [
    # prompt
    pytest.param(_without_prompt(), MISSING_PROMPT, id="prompt-missing"),
    pytest.param(local(""), MISSING_PROMPT, id="prompt-empty"),
    pytest.param(local("   "), MISSING_PROMPT, id="prompt-spaces"),
    pytest.param(local("\n\t \r\n"), MISSING_PROMPT, id="prompt-whitespace"),
    pytest.param(local(None), MISSING_PROMPT, id="prompt-null"),
    pytest.param(local(123), MISSING_PROMPT, id="prompt-number"),
    pytest.param(local(True), MISSING_PROMPT, id="prompt-bool"),
    pytest.param(local(["a prompt"]), MISSING_PROMPT, id="prompt-list"),
    pytest.param(local({"text": "a prompt"}), MISSING_PROMPT, id="prompt-object"),
    pytest.param(local("x" * 2001), LONG_PROMPT, id="prompt-2001"),
    pytest.param(local("é" * 2001), LONG_PROMPT, id="prompt-2001-non-ascii"),
    pytest.param(local("x" * 10000), LONG_PROMPT, id="prompt-10000"),
    pytest.param(local("a\x00b"), control_in("Prompt", "0000"), id="prompt-nul"),
    pytest.param(local("ring \x07 bell"), control_in("Prompt", "0007"), id="prompt-bell"),
    pytest.param(local("c1 \x9b code"), control_in("Prompt", "009B"), id="prompt-c1"),
    # model
    pytest.param(local(model="sora-3"), BAD_MODEL, id="model-unknown"),
    pytest.param(local(model=""), BAD_MODEL, id="model-empty"),
    pytest.param(local(model="local-storyboard "), BAD_MODEL, id="model-trailing-space"),
    pytest.param(local(model=2), BAD_MODEL, id="model-number"),
    pytest.param(local(model=True), BAD_MODEL, id="model-bool"),
    pytest.param(local(model=["sora-2"]), BAD_MODEL, id="model-list"),
    pytest.param(local(model={"name": "sora-2"}), BAD_MODEL, id="model-object"),
    # duration: JSON integers only, within the model's set
    pytest.param(local(duration="10"), BAD_DURATION, id="duration-string"),
    pytest.param(local(duration=10.5), BAD_DURATION, id="duration-fraction"),
    pytest.param(local(duration=10.0), BAD_DURATION, id="duration-float-whole"),
    pytest.param(local(duration=True), BAD_DURATION, id="duration-true"),
    pytest.param(local(duration=False), BAD_DURATION, id="duration-false"),
    pytest.param(local(duration=[10]), BAD_DURATION, id="duration-list"),
    pytest.param(local(duration=0), BAD_DURATION, id="local-0"),
    pytest.param(local(duration=-5), BAD_DURATION, id="local-negative"),
    pytest.param(local(duration=61), BAD_DURATION, id="local-61"),
    pytest.param({"prompt": PROMPT, "model": "sora-2", "duration": 5}, BAD_DURATION, id="sora-2-5"),
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2", "duration": 12}, BAD_DURATION, id="sora-2-12"
    ),
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2", "duration": 25}, BAD_DURATION, id="sora-2-25"
    ),
    pytest.param({"prompt": PROMPT, "duration": 20}, BAD_DURATION, id="default-model-20"),
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2-pro", "duration": 10}, BAD_DURATION, id="sora-2-pro-10"
    ),
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2-pro", "duration": 20}, BAD_DURATION, id="sora-2-pro-20"
    ),
    *[
        pytest.param({"prompt": PROMPT, "model": m, "duration": d}, BAD_DURATION, id=f"{m[:8]}-{d}")
        for m in KLING
        for d in (2, 16)
    ],
    # aspect_ratio
    *[
        pytest.param(local(aspect_ratio=a), BAD_ASPECT, id=f"aspect-{a!r}")
        for a in ("4:3", "9x16", "", "9:16 ", 916, ["9:16"], True)
    ],
    # resolution
    *[
        pytest.param(local(resolution=r), BAD_RESOLUTION, id=f"resolution-{r!r}")
        for r in ("480p", "1080P", "", 720, ["720p"])
    ],
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2", "resolution": "1080p"},
        BAD_RESOLUTION,
        id="sora-2-1080p",
    ),
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2-pro", "resolution": "1080p"},
        BAD_RESOLUTION,
        id="sora-2-pro-1080p",
    ),
    # style (the music bed's mood): checked for every model, though only ours plays it
    *[
        pytest.param(local(style=s), BAD_STYLE, id=f"style-{s!r}")
        for s in ("jazz", "Calm", "", " calm", 1, ["calm"], True)
    ],
    pytest.param(
        {"prompt": PROMPT, "model": "sora-2", "style": "jazz"}, BAD_STYLE, id="sora-2-jazz"
    ),
]


@pytest.mark.parametrize("body, expected", INVALID_BODIES)
async def test_invalid_body(harness, body, expected):
    partner = await harness.partner(credits=1000)
    response = await generate(harness.client, partner["headers"], body)
    assert_error(response, 400, *expected)
    assert await balance_of(harness, partner["account_id"]) == 1000
    assert await video_count(harness, partner["headers"]) == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"   ", id="blank"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'[{"prompt": "x"}]', id="array-of-object"),
        pytest.param(b'"x"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"true", id="true"),
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'prompt': 'x'}", id="single-quotes"),
        pytest.param(b'{"prompt": "x",}', id="trailing-comma"),
        pytest.param(b"prompt=x&model=local-storyboard", id="form-encoded"),
        pytest.param(b'{"prompt": "x", "duration": NaN}', id="nan"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
async def test_body_not_a_json_object(harness, raw):
    partner = await harness.partner(credits=100)
    response = await harness.client.post(
        f"{API}/generate-video", content=raw, headers={**partner["headers"], **JSON}
    )
    assert_error(response, 400, *NOT_JSON)
    assert await balance_of(harness, partner["account_id"]) == 100


# Accepted bodies on the offline model: (body, duration charged, aspect ratio, resolution).
VALID_LOCAL = [
    pytest.param(local(), 10, "9:16", "720p", id="all-defaults"),
    pytest.param(
        local(duration=None, aspect_ratio=None, resolution=None),
        10,
        "9:16",
        "720p",
        id="nulls-mean-defaults",
    ),
    pytest.param(local(duration=1), 1, "9:16", "720p", id="duration-1"),
    pytest.param(local(duration=60), 60, "9:16", "720p", id="duration-60"),
    pytest.param(local(duration=7, aspect_ratio="16:9"), 7, "16:9", "720p", id="16:9"),
    pytest.param(local(duration=3, aspect_ratio="1:1"), 3, "1:1", "720p", id="1:1"),
    pytest.param(
        local(duration=2, aspect_ratio="9:16", resolution="1080p"), 2, "9:16", "1080p", id="1080p"
    ),
    pytest.param(local(duration=2, resolution="720p"), 2, "9:16", "720p", id="720p"),
    *[
        pytest.param(local(duration=3, style=s), 3, "9:16", "720p", id=f"style-{s}")
        for s in ("upbeat", "calm", "dramatic", "playful", None)
    ],
    pytest.param(local("x" * 2000, duration=1), 1, "9:16", "720p", id="prompt-2000"),
    pytest.param(local("é" * 2000, duration=1), 1, "9:16", "720p", id="prompt-2000-non-ascii"),
    pytest.param(local("🎬" * 2000, duration=1), 1, "9:16", "720p", id="prompt-2000-emoji"),
    pytest.param(local("  padded prompt  ", duration=1), 1, "9:16", "720p", id="prompt-padded"),
    pytest.param(
        local(duration=4, webhook="https://example.com", character_ids=None, extra={"a": [1]}),
        4,
        "9:16",
        "720p",
        id="unknown-fields-ignored",
    ),
]


@pytest.mark.parametrize("body, duration, aspect_ratio, resolution", VALID_LOCAL)
async def test_accepted_on_local_storyboard(harness, body, duration, aspect_ratio, resolution):
    partner = await harness.partner(credits=100)
    before = datetime.now(UTC)
    response = await generate(harness.client, partner["headers"], body)
    assert response.status_code == 200, response.text
    assert_request_id(response)
    data = response.json()
    assert set(data) == {"request_id", "job_id", "status", "credits_used", "credits_remaining"}
    assert LOCAL_JOB_ID.fullmatch(data["job_id"]), data
    stamp = datetime.strptime(data["job_id"][6:21], "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
    assert abs((stamp - before).total_seconds()) < 5  # UTC creation time (D9)
    assert data["status"] == "queued"
    assert data["credits_used"] == duration  # 1 credit per second by default
    assert data["credits_remaining"] == 100 - duration
    assert await balance_of(harness, partner["account_id"]) == 100 - duration
    assert await ledger_total(harness, partner["account_id"]) == 100 - duration

    status = (
        await harness.client.get(f"{API}/video-status/{data['job_id']}", headers=partner["headers"])
    ).json()
    assert status["duration"] == duration
    assert status["aspect_ratio"] == aspect_ratio
    assert status["resolution"] == resolution
    assert status["model"] == "local-storyboard"


@pytest.mark.parametrize(
    "duration, resolution", [(1, "720p"), (2, "1080p"), (10, "720p"), (59, "1080p"), (60, "720p")]
)
async def test_local_storyboard_costs_one_credit_per_second(harness, duration, resolution):
    partner = await harness.partner(credits=200)
    response = await generate(
        harness.client, partner["headers"], local(duration=duration, resolution=resolution)
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == duration
    assert response.json()["credits_remaining"] == 200 - duration


async def test_consecutive_submits_report_exact_remaining(harness):
    partner = await harness.partner(credits=20)
    remaining = 20
    for duration in (3, 5, 1, 7):
        response = await generate(harness.client, partner["headers"], local(duration=duration))
        remaining -= duration
        assert response.json()["credits_used"] == duration
        assert response.json()["credits_remaining"] == remaining
    credits = await harness.client.get(f"{API}/credits", headers=partner["headers"])
    assert credits.json()["credits_remaining"] == remaining == 4


async def test_each_submit_is_a_separate_job(harness):
    """Not idempotent: the same request twice makes two jobs and charges twice (contract)."""
    partner = await harness.partner(credits=20)
    first = await generate(harness.client, partner["headers"], local(duration=2))
    second = await generate(harness.client, partner["headers"], local(duration=2))
    assert first.json()["job_id"] != second.json()["job_id"]
    assert second.json()["credits_remaining"] == 16


# Models without a configured upstream: valid shapes are 500 and charge nothing -------------------

# Shapes that pass validation on the default registry (so availability decides).
VALID_UPSTREAM = [
    pytest.param({}, id="default-model-default-duration"),
    pytest.param({"duration": None}, id="default-model-null-duration"),
    pytest.param({"model": None}, id="null-model-means-default"),
    pytest.param({"model": "sora-2", "duration": 10}, id="sora-2-10"),
    pytest.param({"model": "sora-2", "duration": 15, "aspect_ratio": "16:9"}, id="sora-2-15"),
    pytest.param({"model": "sora-2", "resolution": "720p"}, id="sora-2-720p"),
    pytest.param({"model": "sora-2-pro"}, id="sora-2-pro-default-15"),
    pytest.param({"model": "sora-2-pro", "duration": 15}, id="sora-2-pro-15"),
    pytest.param(
        {"model": "sora-2-pro", "duration": 25, "aspect_ratio": "1:1"}, id="sora-2-pro-25"
    ),
    *[
        pytest.param({"model": m, "duration": d, "resolution": r}, id=f"{m[:8]}-{d}-{r}")
        for m in KLING
        for d, r in ((3, "720p"), (10, "1080p"), (15, "720p"), (15, "1080p"))
    ],
    *[pytest.param({"model": m}, id=f"{m[:8]}-default") for m in KLING],
]


@pytest.mark.parametrize("fields", VALID_UPSTREAM)
async def test_unconfigured_model_is_unavailable_and_free(harness, fields):
    """Validation passes, availability fails: 500, nothing charged, no job (D4, D15)."""
    partner = await harness.partner(credits=1000)
    response = await generate(harness.client, partner["headers"], {"prompt": PROMPT, **fields})
    assert_error(response, 500, *UNAVAILABLE)
    assert await balance_of(harness, partner["account_id"]) == 1000
    assert await ledger_total(harness, partner["account_id"]) == 1000
    assert await video_count(harness, partner["headers"]) == 0


async def test_availability_comes_before_the_balance_check(harness):
    partner = await harness.partner(credits=0)
    for fields in (
        {},
        {"model": "sora-2-pro", "duration": 25},
        {"model": KLING[0], "duration": 15, "resolution": "1080p"},
    ):
        response = await generate(harness.client, partner["headers"], {"prompt": PROMPT, **fields})
        assert_error(response, 500, *UNAVAILABLE)


# Order of checks (D4) -----------------------------------------------------------------------------


async def test_validation_comes_before_availability(harness):
    partner = await harness.partner(credits=1000)
    invalid = await generate(
        harness.client, partner["headers"], {"prompt": PROMPT, "model": "sora-2", "duration": 11}
    )
    assert_error(invalid, 400, *BAD_DURATION)
    no_prompt = await generate(harness.client, partner["headers"], {"model": "sora-2"})
    assert_error(no_prompt, 400, *MISSING_PROMPT)


@pytest.mark.parametrize(
    "credits, duration",
    [(0, 1), (0, 10), (9, 10), (59, 60), (1, 2)],
)
async def test_insufficient_credits(harness, credits, duration):
    partner = await harness.partner(credits=credits)
    response = await generate(harness.client, partner["headers"], local(duration=duration))
    body = assert_error(response, 402, "Insufficient credits", "insufficient_credits")
    assert body["credits_remaining"] == credits
    assert body["credits_required"] == duration
    assert await balance_of(harness, partner["account_id"]) == credits
    assert await ledger_total(harness, partner["account_id"]) == credits
    assert await video_count(harness, partner["headers"]) == 0


async def test_exact_balance_is_enough(harness):
    partner = await harness.partner(credits=10)
    response = await generate(harness.client, partner["headers"], local(duration=10))
    assert response.status_code == 200, response.text
    assert response.json()["credits_remaining"] == 0
    refused = await generate(harness.client, partner["headers"], local(duration=1))
    body = assert_error(refused, 402, "Insufficient credits", "insufficient_credits")
    assert (body["credits_remaining"], body["credits_required"]) == (0, 1)


async def test_validation_comes_before_the_balance_check(harness):
    partner = await harness.partner(credits=0)
    response = await generate(harness.client, partner["headers"], local(duration=61))
    assert_error(response, 400, *BAD_DURATION)


async def test_operator_price_override_is_charged(make_harness):
    api = await make_harness(prices={"video_local_storyboard_per_second": 2})
    partner = await api.partner(credits=25)
    response = await generate(api.client, partner["headers"], local(duration=7))
    assert response.status_code == 200, response.text
    assert (response.json()["credits_used"], response.json()["credits_remaining"]) == (14, 11)
    refused = await generate(api.client, partner["headers"], local(duration=6))
    body = assert_error(refused, 402, "Insufficient credits", "insufficient_credits")
    assert (body["credits_remaining"], body["credits_required"]) == (11, 12)


async def test_free_price_override_charges_nothing(make_harness):
    api = await make_harness(prices={"video_local_storyboard_per_second": 0})
    partner = await api.partner(credits=0)
    response = await generate(api.client, partner["headers"], local(duration=30))
    assert response.status_code == 200, response.text
    assert (response.json()["credits_used"], response.json()["credits_remaining"]) == (0, 0)
