"""The optional ``brand_color`` of generate-video: refused with a 400 unless "#RRGGBB", stored
with the job, and drawn by local-storyboard (its end card's button is that colour)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from knightvision.db.schema import jobs
from knightvision.providers.video_model.local_storyboard import LocalStoryboardAdapter
from knightvision.providers.video_model.port import GenerationSpec
from tests.fixtures.partner_api import assert_error, balance_of, generate, local
from tests.fixtures.render_probe import decode_frames

BAD = ('Invalid brand_color (expected "#RRGGBB")', "invalid_brand_color")


@pytest.mark.parametrize(
    "value",
    ["blue", "1E5BFF", "#1E5BF", "#1E5BFFAA", "#GG0000", " #1E5BFF", "", 0x1E5BFF, ["#1E5BFF"]],
)
async def test_an_invalid_brand_color_is_a_400_in_the_documented_shape(harness, value):
    partner = await harness.partner(credits=1000)
    response = await generate(harness.client, partner["headers"], local(brand_color=value))
    assert_error(response, 400, *BAD)
    assert await balance_of(harness, partner["account_id"]) == 1000  # nothing charged


async def _stored_params(harness: Any, account_id: int) -> dict[str, Any]:
    async with harness.container.engine.connect() as conn:
        query = select(jobs.c.params).where(jobs.c.account_id == account_id)
        return dict((await conn.execute(query)).one().params)


@pytest.mark.parametrize(("value", "stored"), [("#1e5bff", "#1e5bff"), (None, None)])
async def test_a_valid_or_null_brand_color_is_accepted_and_kept_with_the_job(
    harness, value, stored
):
    partner = await harness.partner(credits=1000)
    response = await generate(harness.client, partner["headers"], local(brand_color=value))
    assert response.status_code == 200, response.text
    params = await _stored_params(harness, partner["account_id"])
    assert params.get("brand_color") == stored


async def test_other_models_accept_and_ignore_it(harness):
    partner = await harness.partner(credits=1000)
    body = {"prompt": "A city at night", "model": "sora-2", "brand_color": "#1E5BFF"}
    response = await generate(harness.client, partner["headers"], body)
    assert response.json().get("code") != "invalid_brand_color"


class _Run:
    def progress(self, fraction: float) -> None:
        pass

    def recall(self, name: str) -> Any:
        return None

    async def remember(self, name: str, value: Any) -> None:
        pass


async def test_local_storyboard_draws_the_end_card_button_in_the_brand_colour(tmp_path: Path):
    spec = GenerationSpec(
        prompt="Fresh coffee, delivered. Shop now.",
        duration=3,
        width=720,
        height=720,
        aspect_ratio="1:1",
        brand_color="#E0115F",
    )
    out = tmp_path / "brand.mp4"
    await LocalStoryboardAdapter().generate(spec, out, _Run())
    last = 3 * 30 - 1
    frame = decode_frames(out, {last})[last].astype(np.int16)
    brand = np.all(np.abs(frame - np.array([0xE0, 0x11, 0x5F])) < 24, axis=2)
    assert brand.sum() > 3000  # the button's pill
