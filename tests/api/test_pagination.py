"""Keyset pages on the lists (additions): ``starting_after`` + ``has_more`` on /videos, /analyses
and /characters; pages that neither skip nor repeat while new items arrive."""

from __future__ import annotations

from typing import Any

import pytest

from knightvision.account import admin
from knightvision.api.schemas import AnalysesRead, CharactersRead, VideosRead
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error, generate, local

SCHEMAS = {"videos": VideosRead, "analyses": AnalysesRead, "characters": CharactersRead}
ID_FIELD = {"videos": "job_id", "analyses": "job_id", "characters": "id"}


async def _unlimited(harness, partner) -> None:
    await admin.key_limits(
        harness.container.engine,
        partner["key_prefix"],
        {"generate_video": 1000, "analyze": 1000, "characters": 1000},
    )


async def _page(harness, partner, name: str, query: str = "") -> tuple[list[Any], bool]:
    response = await harness.client.get(f"{API}/{name}{query}", headers=partner["headers"])
    assert response.status_code == 200, response.text
    body = response.json()
    SCHEMAS[name].model_validate(body)
    return [item[ID_FIELD[name]] for item in body[name]], body["has_more"]


async def _walk(harness, partner, name: str, limit: int) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor = None
    while True:
        query = f"?limit={limit}" + (f"&starting_after={cursor}" if cursor is not None else "")
        ids, has_more = await _page(harness, partner, name, query)
        pages.append(ids)
        if not has_more:
            return pages
        assert ids, "has_more with an empty page"
        cursor = ids[-1]


async def _submit_videos(harness, partner, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = await generate(harness.client, partner["headers"], local(f"ad {n}", duration=1))
        assert response.status_code == 200, response.text
        ids.append(response.json()["job_id"])
    return ids


async def test_video_pages_cover_the_list_once_in_order(harness):
    partner = await harness.partner(credits=1000)
    await _unlimited(harness, partner)
    submitted = await _submit_videos(harness, partner, 7)

    pages = await _walk(harness, partner, "videos", 3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [job for page in pages for job in page] == submitted[::-1]
    whole, has_more = await _page(harness, partner, "videos", "?limit=50")
    assert whole == submitted[::-1] and has_more is False


async def test_a_page_ending_exactly_at_the_last_item_says_so(harness):
    partner = await harness.partner(credits=1000)
    await _unlimited(harness, partner)
    await _submit_videos(harness, partner, 4)
    pages = await _walk(harness, partner, "videos", 2)
    assert [len(page) for page in pages] == [2, 2]


async def test_new_items_never_shift_the_pages_being_read(harness):
    partner = await harness.partner(credits=1000)
    await _unlimited(harness, partner)
    older = await _submit_videos(harness, partner, 5)
    first, _ = await _page(harness, partner, "videos", "?limit=2")
    newer = await _submit_videos(harness, partner, 3)

    second, has_more = await _page(
        harness, partner, "videos", f"?limit=2&starting_after={first[-1]}"
    )
    third, last = await _page(harness, partner, "videos", f"?limit=2&starting_after={second[-1]}")
    assert first + second + third == older[::-1] and has_more and not last
    fresh, _ = await _page(harness, partner, "videos", "?limit=3")
    assert fresh == newer[::-1]


@pytest.mark.parametrize("name", ["videos", "analyses", "characters"])
async def test_a_cursor_that_names_none_of_the_accounts_items_is_a_clear_400(harness, name):
    partner = await harness.partner(credits=1000)
    other = await harness.partner(credits=1000)
    video = (await _submit_videos(harness, other, 1))[0]
    for cursor in (video, "local_20260101_000000_abcdef", "x", "9" * 70, "12"):
        response = await harness.client.get(
            f"{API}/{name}?starting_after={cursor}", headers=partner["headers"]
        )
        body = assert_error(response, 400, "Invalid starting_after", "invalid_starting_after")
        assert body["param"] == "starting_after"
    empty, has_more = await _page(harness, partner, name, "?starting_after=")
    assert empty == [] and has_more is False


async def test_analyses_are_listed_so_a_timed_out_submit_can_be_found(harness):
    partner = await harness.partner(credits=1000)
    await _unlimited(harness, partner)
    urls = [f"https://www.tiktok.com/@brand/video/73000000000000000{n}" for n in range(3)]
    submitted = []
    for url in urls:
        response = await harness.client.post(
            f"{API}/analyze", json={"url": url}, headers=partner["headers"]
        )
        assert response.status_code == 200, response.text
        submitted.append(response.json()["job_id"])
    await _submit_videos(harness, partner, 1)  # another kind never appears among analyses

    response = await harness.client.get(f"{API}/analyses", headers=partner["headers"])
    body = response.json()
    AnalysesRead.model_validate(body)
    assert [item["job_id"] for item in body["analyses"]] == submitted[::-1]
    assert [item["url"] for item in body["analyses"]] == urls[::-1]
    assert {item["platform"] for item in body["analyses"]} == {"tiktok"}
    assert all(item["status"] == "queued" and "result" not in item for item in body["analyses"])
    assert [job for page in await _walk(harness, partner, "analyses", 2) for job in page] == (
        submitted[::-1]
    )


async def test_characters_page_the_same_way(harness):
    partner = await harness.partner(credits=1000)
    await _unlimited(harness, partner)
    created = []
    for n in range(5):
        response = await harness.client.post(
            f"{API}/characters",
            json={"name": f"Host {n}", "prompt": "A friendly host in a bright studio"},
            headers=partner["headers"],
        )
        assert response.status_code == 200, response.text
        created.append(response.json()["character_id"])
    pages = await _walk(harness, partner, "characters", 2)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [character for page in pages for character in page] == created[::-1]
