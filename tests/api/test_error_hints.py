"""Errors that help: a 400 names the field at fault (``param``) and, where it applies, the values or
limits it accepts; a request rewritten from the hint alone gets past that error."""

from __future__ import annotations

from typing import Any

import pytest

from knightvision.api.schemas import ErrorBody
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error, local

CREATOR = {"name": "Sales Expert", "prompt": "A friendly host in a bright studio"}


def _follow_hint(body: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    """The body a partner would send next, knowing only the error."""
    param = error["param"]
    fixed = dict(body)
    if "allowed" in error:
        fixed[param] = error["allowed"][0]
    elif "max_length" in error:
        fixed[param] = body[param][: error["max_length"]]
    elif "max_items" in error:
        fixed[param] = body[param][: error["max_items"]]
    else:
        fixed.pop(param)
    return fixed


VIDEO_CASES = [
    pytest.param(local(model="sora-3"), "model", "Invalid model", "invalid_model", id="model"),
    pytest.param(local(duration=90), "duration", "Invalid duration", "invalid_duration", id="dur"),
    pytest.param(
        local(aspect_ratio="4:3"),
        "aspect_ratio",
        "Invalid aspect_ratio",
        "invalid_aspect_ratio",
        id="aspect",
    ),
    pytest.param(
        local(resolution="4k"), "resolution", "Invalid resolution", "invalid_resolution", id="res"
    ),
    pytest.param(
        local(style="grunge"),
        "style",
        "Invalid style: must be one of upbeat, calm, dramatic, playful",
        "invalid_style",
        id="style",
    ),
    pytest.param(
        local("x" * 2001),
        "prompt",
        "Prompt must be 2000 characters or less",
        "prompt_too_long",
        id="prompt-long",
    ),
    pytest.param(
        local(brand_color="red"),
        "brand_color",
        'Invalid brand_color (expected "#RRGGBB")',
        "invalid_brand_color",
        id="brand-color",
    ),
]


@pytest.mark.parametrize("body, param, error, code", VIDEO_CASES)
async def test_a_video_error_names_its_field_and_the_fix_is_accepted(
    harness, body, param, error, code
):
    partner = await harness.partner(credits=1000)
    response = await harness.client.post(
        f"{API}/generate-video", json=body, headers=partner["headers"]
    )
    hint = assert_error(response, 400, error, code)
    ErrorBody.model_validate(hint)
    assert hint["param"] == param, hint

    if param == "brand_color":
        assert hint["pattern"] == "#[0-9A-Fa-f]{6}", hint
        fixed = {**body, "brand_color": "#1A2B3C"}
    elif param == "model":  # every model is listed; the offline one is the one configured here
        assert "local-storyboard" in hint["allowed"], hint
        fixed = {**body, "model": "local-storyboard"}
    else:
        fixed = _follow_hint(body, hint)
    retried = await harness.client.post(
        f"{API}/generate-video", json=fixed, headers=partner["headers"]
    )
    assert retried.status_code == 200, retried.text


async def test_allowed_values_are_the_models_own(harness):
    partner = await harness.partner(credits=1000)
    kling = await harness.client.post(
        f"{API}/generate-video",
        json={"prompt": "A cat", "model": "kling-v3-text-to-video", "duration": 20},
        headers=partner["headers"],
    )
    models = await harness.client.post(
        f"{API}/generate-video", json=local(model=42), headers=partner["headers"]
    )
    sora = await harness.client.post(
        f"{API}/generate-video",
        json={"prompt": "A cat", "model": "sora-2", "duration": 12},
        headers=partner["headers"],
    )
    registry = harness.app.state.container.registry
    assert models.json()["allowed"] == registry.names()
    assert sora.json()["allowed"] == sorted(registry.get("sora-2").durations) == [10, 15]
    # A known model is validated before its availability is checked (D4 order).
    assert kling.json()["allowed"] == sorted(registry.get("kling-v3-text-to-video").durations)


async def test_text_and_list_limits_are_stated(harness):
    partner = await harness.partner(credits=1000)
    too_many = await harness.client.post(
        f"{API}/generate-video", json=local(character_ids=[1, 2, 3]), headers=partner["headers"]
    )
    hint = assert_error(too_many, 400, "At most 2 characters per video", "too_many_characters")
    assert (hint["param"], hint["max_items"]) == ("character_ids", 2)

    long_name = await harness.client.post(
        f"{API}/characters", json={**CREATOR, "name": "n" * 51}, headers=partner["headers"]
    )
    hint = assert_error(long_name, 400, "Name must be 50 characters or less", "name_too_long")
    assert (hint["param"], hint["max_length"]) == ("name", 50)

    nul = await harness.client.post(
        f"{API}/characters", json={**CREATOR, "prompt": "A\x00host"}, headers=partner["headers"]
    )
    assert nul.json()["param"] == "prompt"


async def test_limit_and_url_errors_name_their_parameter(harness):
    partner = await harness.partner(credits=1000)
    limit = await harness.client.get(f"{API}/videos?limit=abc", headers=partner["headers"])
    hint = assert_error(limit, 400, "Invalid limit", "invalid_limit")
    assert (hint["param"], hint["minimum"], hint["maximum"]) == ("limit", 1, 50)

    url = await harness.client.post(
        f"{API}/analyze", json={"url": "https://example.com/ad"}, headers=partner["headers"]
    )
    hint = assert_error(
        url, 400, "Please provide a valid Facebook, Instagram, or TikTok URL", "invalid_url"
    )
    assert hint["param"] == "url"

    job = await harness.client.get(f"{API}/video-status/nope", headers=partner["headers"])
    assert assert_error(job, 400, "Invalid job ID", "invalid_job_id")["param"] == "job_id"
