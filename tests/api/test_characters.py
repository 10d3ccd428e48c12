"""Characters on the wire: validation with the exact strings (D6), the order of checks
and charging (D4), ownership (D9), statuses (D13) and characters in generate-video (D16)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from knightvision.account import admin
from knightvision.api.schemas import (
    CharacterRead,
    CharactersRead,
    CharacterSubmitted,
    FinalizeSubmitted,
)
from knightvision.db.migrate import upgrade
from knightvision.db.schema import jobs
from tests.fixtures.characters import (
    CREATOR,
    character,
    create_character,
    ready_character,
    run_queued,
)
from tests.fixtures.harness import API, running_harness
from tests.fixtures.partner_api import assert_error, balance_of, generate, ledger_total, local

MISSING_NAME = ("Please provide a name", "missing_name")
LONG_NAME = ("Name must be 50 characters or less", "name_too_long")
MISSING_PROMPT = ("Please provide a prompt", "missing_prompt")
LONG_PROMPT = ("Prompt must be 1000 characters or less", "prompt_too_long")
BAD_DURATION = ("Invalid duration", "invalid_duration")
BAD_ASPECT = ("Invalid aspect_ratio", "invalid_aspect_ratio")
BAD_TIMESTAMPS = ("Invalid timestamps", "invalid_timestamps")
NOT_READY = ("Character is not ready", "character_not_ready")
UNKNOWN = ("Unknown character", "unknown_character")
PROMPT = CREATOR["prompt"]

INVALID_CREATES = [
    pytest.param({"prompt": PROMPT}, MISSING_NAME, id="name-missing"),
    *[
        pytest.param({"name": value, "prompt": PROMPT}, MISSING_NAME, id=f"name-{value!r}")
        for value in ("", "   ", None, 42, True, ["Sales"], {"n": 1})
    ],
    pytest.param({"name": "x" * 51, "prompt": PROMPT}, LONG_NAME, id="name-51"),
    pytest.param({"name": "é" * 51, "prompt": PROMPT}, LONG_NAME, id="name-51-non-ascii"),
    pytest.param(
        {"name": "Sales\x00Expert", "prompt": PROMPT},
        ("Name must not contain control characters (found U+0000)", "invalid_characters"),
        id="name-nul",
    ),
    pytest.param(
        {"name": "Sales Expert", "prompt": "A host\x00"},
        ("Prompt must not contain control characters (found U+0000)", "invalid_characters"),
        id="prompt-nul",
    ),
    pytest.param({"name": "Sales Expert"}, MISSING_PROMPT, id="prompt-missing"),
    *[
        pytest.param(
            {"name": "Sales Expert", "prompt": value}, MISSING_PROMPT, id=f"prompt-{value!r}"
        )
        for value in ("", "\n\t ", None, 7, ["p"])
    ],
    pytest.param({"name": "Sales Expert", "prompt": "x" * 1001}, LONG_PROMPT, id="prompt-1001"),
    pytest.param({"name": "", "prompt": ""}, MISSING_NAME, id="name-checked-first"),
    *[
        pytest.param({**CREATOR, "duration": value}, BAD_DURATION, id=f"duration-{value!r}")
        for value in ("10", 10.5, 10.0, True, 0, -3, 61, [10])
    ],
    *[
        pytest.param({**CREATOR, "aspect_ratio": value}, BAD_ASPECT, id=f"aspect-{value!r}")
        for value in ("4:3", "", "9:16 ", 916, ["9:16"])
    ],
]


@pytest.mark.parametrize("body, expected", INVALID_CREATES)
async def test_invalid_create(harness, body, expected) -> None:
    partner = await harness.partner(credits=100)
    response = await harness.client.post(f"{API}/characters", headers=partner["headers"], json=body)
    assert_error(response, 400, *expected)
    assert await balance_of(harness, partner["account_id"]) == 100
    listed = await harness.client.get(f"{API}/characters", headers=partner["headers"])
    assert listed.json()["characters"] == []


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"a string"', b"null"])
async def test_create_needs_a_json_object(harness, raw) -> None:
    partner = await harness.partner(credits=100)
    response = await harness.client.post(
        f"{API}/characters",
        headers={**partner["headers"], "Content-Type": "application/json"},
        content=raw,
    )
    assert_error(response, 400, "Request body must be JSON", "invalid_json")


async def test_create_charges_and_starts_processing(harness) -> None:
    partner = await harness.partner(credits=100)
    response = await harness.client.post(
        f"{API}/characters",
        headers=partner["headers"],
        json={
            "name": "x" * 50,
            "prompt": "p" * 1000,
            "unknown_field": [1],
        },
    )
    submitted = CharacterSubmitted.model_validate(response.json())
    assert (submitted.status, submitted.credits_used, submitted.credits_remaining) == (
        "processing",
        22,
        78,
    )
    assert await ledger_total(harness, partner["account_id"]) == 78

    detail = CharacterRead.model_validate(
        (
            await harness.client.get(
                f"{API}/characters/{submitted.character_id}", headers=partner["headers"]
            )
        ).json()
    ).character
    assert (detail.id, detail.status, detail.aspect_ratio, detail.credits_used) == (
        submitted.character_id,
        "processing",
        "9:16",
        22,
    )
    assert detail.video_url is None and detail.duration is None  # not before it is ready (D13)
    async with harness.container.engine.connect() as conn:
        job = (
            await conn.execute(
                select(jobs.c.kind, jobs.c.params).where(jobs.c.account_id == partner["account_id"])
            )
        ).one()
    assert job.kind == "character.create" and (
        job.params["duration"],
        job.params["aspect_ratio"],
    ) == (10, "9:16")
    assert (job.params["width"], job.params["height"], job.params["adapter"]) == (
        720,
        1280,
        "local-storyboard",
    )


async def test_insufficient_credits_creates_nothing(harness) -> None:
    partner = await harness.partner(credits=21)
    body = assert_error(
        await create_character(harness.client, partner["headers"]),
        402,
        "Insufficient credits",
        "insufficient_credits",
    )
    assert (body["credits_remaining"], body["credits_required"]) == (21, 22)
    assert (await harness.client.get(f"{API}/characters", headers=partner["headers"])).json()[
        "characters"
    ] == []


async def test_list_is_account_scoped_and_newest_first(harness) -> None:
    alice, bob = await harness.partner(credits=200), await harness.partner(credits=200)
    ids = [
        (await create_character(harness.client, alice["headers"], name=f"Char {n}")).json()[
            "character_id"
        ]
        for n in range(3)
    ]
    await create_character(harness.client, bob["headers"], name="Bob's")
    listed = CharactersRead.model_validate(
        (await harness.client.get(f"{API}/characters", headers=alice["headers"])).json()
    )
    assert [(c.id, c.name, c.status) for c in listed.characters] == [
        (i, f"Char {n}", "processing") for n, i in reversed(list(enumerate(ids)))
    ]
    limited = await harness.client.get(
        f"{API}/characters", params={"limit": 1}, headers=alice["headers"]
    )
    assert [c["id"] for c in limited.json()["characters"]] == [ids[-1]]
    assert_error(
        await harness.client.get(
            f"{API}/characters", params={"limit": "x"}, headers=alice["headers"]
        ),
        400,
        "Invalid limit",
        "invalid_limit",
    )


@pytest.mark.parametrize("path", ["abc", "1.5", "-1", "0x1", "１", "99999999", "1%20"])
async def test_unknown_ids_are_not_found(harness, path) -> None:
    partner = await harness.partner(credits=100)
    assert_error(
        await harness.client.get(f"{API}/characters/{path}", headers=partner["headers"]),
        404,
        "Not found",
        "not_found",
    )
    response = await harness.client.post(
        f"{API}/characters/{path}/finalize", headers=partner["headers"]
    )
    assert_error(response, 404, "Not found", "not_found")
    assert await balance_of(harness, partner["account_id"]) == 100


async def test_another_accounts_character_is_not_found(harness) -> None:
    owner, other = await harness.partner(credits=100), await harness.partner(credits=100)
    character_id = await ready_character(harness, owner["headers"])
    assert_error(
        await harness.client.get(f"{API}/characters/{character_id}", headers=other["headers"]),
        404,
        "Not found",
        "not_found",
    )
    finalize = await harness.client.post(
        f"{API}/characters/{character_id}/finalize", headers=other["headers"], json={}
    )
    assert_error(finalize, 404, "Not found", "not_found")
    assert await balance_of(harness, other["account_id"]) == 100
    listed = await harness.client.get(f"{API}/characters", headers=other["headers"])
    assert listed.json()["characters"] == []
    # Another key of the same account sees it: characters belong to the account, not the key.
    second = await harness.extra_key(owner["account"])
    assert (await character(harness.client, second, character_id))["id"] == character_id


INVALID_FINALIZES = [
    *[
        pytest.param({"timestamp_start": s, "timestamp_end": e}, BAD_TIMESTAMPS, id=f"{s!r}-{e!r}")
        for s, e in (
            (-1, 2),
            (2, 2),
            (3, 2),
            (0, 7),
            (1, 6),
            (0, 5),
            ("1", 4),
            (1, "4"),
            (1.5, 4),
            (1, 4.0),
            (True, 4),
            (1, [4]),
        )
    ],
    pytest.param({"timestamp_start": 5}, BAD_TIMESTAMPS, id="start-after-default-end"),
    pytest.param({"timestamp_end": 1}, BAD_TIMESTAMPS, id="end-at-default-start"),
    pytest.param(
        {"character_prompt": 5},
        ("Invalid character_prompt", "invalid_character_prompt"),
        id="character-prompt-number",
    ),
    pytest.param(
        {"character_prompt": "x" * 1001},
        ("Character prompt must be 1000 characters or less", "prompt_too_long"),
        id="character-prompt-long",
    ),
]


async def test_finalize_validation_and_not_ready(harness) -> None:
    partner = await harness.partner(credits=200)
    await admin.key_limits(
        harness.container.engine, partner["key_prefix"], {"character_finalize": 1000}
    )
    headers = partner["headers"]
    character_id = await ready_character(harness, headers, duration=6)
    before = await balance_of(harness, partner["account_id"])
    for case in INVALID_FINALIZES:
        body, expected = case.values
        response = await harness.client.post(
            f"{API}/characters/{character_id}/finalize", headers=headers, json=body
        )
        assert_error(response, 400, *expected)
    for raw in (b"[]", b"not json", b'"x"'):
        response = await harness.client.post(
            f"{API}/characters/{character_id}/finalize", headers=headers, content=raw
        )
        assert_error(response, 400, "Request body must be JSON", "invalid_json")
    assert await balance_of(harness, partner["account_id"]) == before

    # An empty body means all defaults (D4a); whole seconds up to the video's end are fine.
    accepted = await harness.client.post(
        f"{API}/characters/{character_id}/finalize", headers=headers
    )
    submitted = FinalizeSubmitted.model_validate(accepted.json())
    assert (submitted.status, submitted.credits_used, submitted.credits_remaining) == (
        "finalizing",
        3,
        before - 3,
    )
    detail = await character(harness.client, headers, character_id)
    assert detail["status"] == "finalizing"
    assert detail["finalize"] == {
        **detail["finalize"],
        "timestamp_start": 1,
        "timestamp_end": 4,
        "character_prompt": "Person looking into the camera",
        "status": "finalizing",
    }
    # A second finalize while one runs is refused, and not charged.
    again = await harness.client.post(
        f"{API}/characters/{character_id}/finalize",
        headers=headers,
        json={"timestamp_start": 2, "timestamp_end": 6},
    )
    assert_error(again, 400, *NOT_READY)
    assert await balance_of(harness, partner["account_id"]) == before - 3

    await run_queued(harness)
    finalized = await character(harness.client, headers, character_id)
    assert finalized["status"] == "finalized" and finalized["finalize"]["status"] == "finalized"
    assert_error(
        await harness.client.post(f"{API}/characters/{character_id}/finalize", headers=headers),
        400,
        *NOT_READY,
    )


async def test_processing_character_is_not_ready(harness) -> None:
    partner = await harness.partner(credits=100)
    character_id = (await create_character(harness.client, partner["headers"], duration=4)).json()[
        "character_id"
    ]
    response = await harness.client.post(
        f"{API}/characters/{character_id}/finalize", headers=partner["headers"], json={}
    )
    assert_error(response, 400, *NOT_READY)
    # timestamps are checked first, against the duration asked for
    response = await harness.client.post(
        f"{API}/characters/{character_id}/finalize",
        headers=partner["headers"],
        json={"timestamp_end": 5},
    )
    assert_error(response, 400, *BAD_TIMESTAMPS)
    assert await balance_of(harness, partner["account_id"]) == 78


async def test_get_and_post_characters_share_one_bucket(harness) -> None:
    partner = await harness.partner(credits=100)
    await admin.key_limits(harness.container.engine, partner["key_prefix"], {"characters": 2})
    assert (
        await harness.client.get(f"{API}/characters", headers=partner["headers"])
    ).status_code == 200
    assert (
        await create_character(harness.client, partner["headers"], name="")
    ).status_code == 400  # counts too (D4)
    assert_error(
        await harness.client.get(f"{API}/characters", headers=partner["headers"]),
        429,
        "Rate limit exceeded",
        "rate_limited",
    )
    assert (
        await harness.client.get(f"{API}/characters/1", headers=partner["headers"])
    ).status_code == 404  # its own bucket


async def test_characters_in_generate_video(harness) -> None:
    partner = await harness.partner(credits=300)
    await admin.key_limits(
        harness.container.engine, partner["key_prefix"], {"generate_video": 1000}
    )
    headers = partner["headers"]
    ready_id = await ready_character(harness, headers, name="Ready Rita")
    final_id = await ready_character(harness, headers, name="Sales Expert")
    await harness.client.post(f"{API}/characters/{final_id}/finalize", headers=headers)
    await run_queued(harness)
    assert (await character(harness.client, headers, final_id))["status"] == "finalized"
    stranger = await harness.partner(credits=300)
    strangers_id = await ready_character(harness, stranger["headers"], name="Stranger")
    await harness.client.post(
        f"{API}/characters/{strangers_id}/finalize", headers=stranger["headers"]
    )
    await run_queued(harness)
    balance = await balance_of(harness, partner["account_id"])

    refusals = [
        (local(character_ids="1"), ("Invalid character_ids", "invalid_character_ids")),
        (local(character_ids=[final_id, "2"]), ("Invalid character_ids", "invalid_character_ids")),
        (local(character_ids=[True]), ("Invalid character_ids", "invalid_character_ids")),
        (local(character_ids=[1, 2, 3]), ("At most 2 characters per video", "too_many_characters")),
        (local(character_ids=[999999]), UNKNOWN),
        (local(character_ids=[ready_id]), UNKNOWN),  # ready but not finalized
        (local(character_ids=[strangers_id]), UNKNOWN),  # another account's
        (
            {"prompt": "@Sales Expert smiles", "model": "sora-2"},
            ("Characters are not available for this model", "characters_unsupported"),
        ),
        (
            {"prompt": "Hi", "model": "sora-2", "character_ids": [final_id]},
            ("Characters are not available for this model", "characters_unsupported"),
        ),
    ]
    for body, expected in refusals:
        assert_error(await generate(harness.client, headers, body), 400, *expected)
    assert await balance_of(harness, partner["account_id"]) == balance

    accepted = [
        (
            local("@sales expert shows the product.", duration=1),
            [final_id],
            "Sales Expert shows the product.",
        ),
        (
            local(f"Meet @{final_id} and mail sales@example.com", duration=1),
            [final_id],
            "Meet Sales Expert and mail sales@example.com",
        ),
        (
            local("Ask @Ready Rita or @Stranger", duration=1),
            None,
            None,
        ),  # plain text: not finalized / not theirs
        (
            local("A product shot.", duration=1, character_ids=[final_id, final_id]),
            [final_id],
            "A product shot.",
        ),
    ]
    for body, expected_ids, render_prompt in accepted:
        response = await generate(harness.client, headers, body)
        assert response.status_code == 200, response.text
        async with harness.container.engine.connect() as conn:
            params = await conn.scalar(
                select(jobs.c.params).where(jobs.c.id == response.json()["job_id"])
            )
        assert [c["id"] for c in params.get("characters", [])] == (expected_ids or [])
        assert params.get("render_prompt") == render_prompt
        assert params["prompt"] == body["prompt"]  # the partner's own text is what /videos shows
        if expected_ids:
            assert len(params["characters"][0]["reference_keys"]) == 3


async def test_racing_finalizes_charge_once_on_each_database(settings_factory, backend_url) -> None:
    """Two finalizes at once: one is accepted and charged, the other is "not ready" and free
    (a compare-and-set on the character's finalize job, on SQLite and PostgreSQL alike)."""
    settings = settings_factory(database_url=backend_url)
    await asyncio.to_thread(
        upgrade, settings.async_database_url
    )  # PostgreSQL is migrated by the operator
    async with running_harness(settings, run_workers=False) as harness:
        partner = await harness.partner(credits=100)
        headers = partner["headers"]
        character_id = await ready_character(harness, headers)
        path = f"{API}/characters/{character_id}/finalize"
        responses = await asyncio.gather(
            *(harness.client.post(path, headers=headers) for _ in range(4))
        )
        assert sorted(r.status_code for r in responses) == [200, 400, 400, 400], [
            r.text for r in responses
        ]
        assert (
            await balance_of(harness, partner["account_id"])
            == await ledger_total(harness, partner["account_id"])
            == 100 - 22 - 3
        )
        await run_queued(harness)
        assert (await character(harness.client, headers, character_id))["status"] == "finalized"


@pytest.mark.parametrize(
    "route",
    [
        {"adapter": "disabled"},
        {"adapter": "kie"},
        {"adapter": "openai", "upstream_model": "sora-2-pro"},
    ],
)
async def test_unavailable_character_route_charges_nothing(make_harness, route) -> None:
    api = await make_harness(character_route=route)  # no upstream credentials configured
    partner = await api.partner(credits=100)
    assert_error(
        await create_character(api.client, partner["headers"], duration=10),
        500,
        "Video generation not available",
        "generation_unavailable",
    )
    assert_error(
        await create_character(api.client, partner["headers"], duration=0), 400, *BAD_DURATION
    )  # validation comes first (D4)
    assert await balance_of(api, partner["account_id"]) == 100
    assert (await api.client.get(f"{API}/characters", headers=partner["headers"])).json()[
        "characters"
    ] == []


async def test_upstream_route_durations_are_its_own(make_harness) -> None:
    api = await make_harness(character_route={"adapter": "kie"}, kie_api_key="k")
    partner = await api.partner(credits=100)
    # kie renders Sora at 10 or 15 s (shorter ones are trimmed from 10): 16 s cannot be delivered
    assert_error(
        await create_character(api.client, partner["headers"], duration=16), 400, *BAD_DURATION
    )
    accepted = await create_character(
        api.client, partner["headers"], duration=7, aspect_ratio="1:1"
    )
    assert accepted.status_code == 200 and accepted.json()["credits_used"] == 22
