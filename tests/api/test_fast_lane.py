"""The fast lane (``api/direct.py``) answers as FastAPI does: for the same requests, on every route
it serves, the same status, body (but its request id), content type, rate-limit headers and
Retry-After.

Two apps share one database: one with the fast lane, one built with ``fast_lane=False``. Each gets
the same requests in the same order (each has its own rate-limit windows, so both count alike),
with the limiter's clock frozen so that reset times and Retry-After agree to the second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from knightvision.account import admin
from knightvision.api.direct import PartnerApp
from knightvision.db.engine import write_transaction
from knightvision.kit.ids import API_KEY_PREFIX
from knightvision.pricing import DEFAULT_RATE_LIMITS
from knightvision.video.pipeline import video_key
from tests.fixtures.characters import create_character
from tests.fixtures.harness import API, Harness, SettingsFactory, running_harness
from tests.fixtures.partner_api import local

FROZEN_NOW = 1_800_000_000.0
MAX_BODY_BYTES = 4096
STATIC_MISSES_PER_MINUTE = 4
COMPARED_HEADERS = (
    "content-type",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
    "cache-control",
)
UNKNOWN_VIDEO_JOB = "local_20260323_141500_abc123"
UNKNOWN_ANALYSIS_JOB = "an_20260323_141500_abc123"
HOOK_URL = "https://93.184.215.14/hooks"  # a public address: registered without a DNS lookup


@dataclass(frozen=True)
class Call:
    """One request: who sends it (a name in ``Partners.headers``) and what."""

    who: str
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Partners:
    """The callers and the things they own, made before either app under test starts."""

    headers: dict[str, dict[str, str]]
    video_job: str
    analysis_job: str
    character_id: int
    webhook_id: str
    event_id: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    has_request_id: bool


# Route -> (the statuses its calls get, the calls). ``{video}``, ``{analysis}`` and
# ``{character}`` are the partner's own; "limited" has a limit of 1 a minute on every endpoint.
def routes(p: Partners) -> dict[str, tuple[set[int], list[Call]]]:
    video, analysis, character = p.video_job, p.analysis_job, p.character_id
    webhook, event = p.webhook_id, p.event_id
    guarded = ["none", "malformed", "unknown", "deactivated"]

    def refusals(method: str, path: str, **body: Any) -> list[Call]:
        return [Call(who, method, path, **body) for who in guarded]

    def limited(method: str, path: str, **body: Any) -> list[Call]:
        return [Call("limited", method, path, **body) for _ in range(3)]

    too_large = b'{"prompt": "' + b"x" * MAX_BODY_BYTES + b'"}'
    return {
        "credits": (
            {200, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/credits"),
                *refusals("GET", f"{API}/credits"),
                *limited("GET", f"{API}/credits"),
            ],
        ),
        "video-status": (
            {200, 400, 401, 403, 404, 429},
            [
                Call("partner", "GET", f"{API}/video-status/{video}"),
                Call("other", "GET", f"{API}/video-status/{video}"),
                Call("partner", "GET", f"{API}/video-status/{UNKNOWN_VIDEO_JOB}"),
                Call("partner", "GET", f"{API}/video-status/not-a-job-id"),
                *refusals("GET", f"{API}/video-status/{video}"),
                *limited("GET", f"{API}/video-status/{UNKNOWN_VIDEO_JOB}"),
            ],
        ),
        "status": (
            {200, 400, 401, 403, 404, 429},
            [
                Call("partner", "GET", f"{API}/status/{analysis}"),
                Call("other", "GET", f"{API}/status/{analysis}"),
                Call("partner", "GET", f"{API}/status/{UNKNOWN_ANALYSIS_JOB}"),
                Call("partner", "GET", f"{API}/status/{video}"),
                *refusals("GET", f"{API}/status/{analysis}"),
                *limited("GET", f"{API}/status/{analysis}"),
            ],
        ),
        "videos": (
            {200, 400, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/videos"),
                Call("partner", "GET", f"{API}/videos?limit=1"),
                Call("partner", "GET", f"{API}/videos?limit=500"),
                Call("other", "GET", f"{API}/videos"),
                Call("partner", "GET", f"{API}/videos?limit=many"),
                Call("partner", "GET", f"{API}/videos?limit=1&starting_after={video}"),
                Call("other", "GET", f"{API}/videos?starting_after={video}"),
                *refusals("GET", f"{API}/videos"),
                *limited("GET", f"{API}/videos"),
            ],
        ),
        "analyses": (
            {200, 400, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/analyses"),
                Call("partner", "GET", f"{API}/analyses?limit=1&starting_after={analysis}"),
                Call("other", "GET", f"{API}/analyses"),
                Call("partner", "GET", f"{API}/analyses?starting_after={video}"),
                *refusals("GET", f"{API}/analyses"),
                *limited("GET", f"{API}/analyses"),
            ],
        ),
        "characters": (
            {200, 400, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/characters"),
                Call("partner", "GET", f"{API}/characters?limit=1"),
                Call("other", "GET", f"{API}/characters"),
                Call("partner", "GET", f"{API}/characters?limit=-"),
                Call("partner", "GET", f"{API}/characters?starting_after={character}"),
                Call("partner", "GET", f"{API}/characters?starting_after=x"),
                *refusals("GET", f"{API}/characters"),
                *limited("GET", f"{API}/characters"),
            ],
        ),
        "character": (
            {200, 401, 403, 404, 429},
            [
                Call("partner", "GET", f"{API}/characters/{character}"),
                Call("other", "GET", f"{API}/characters/{character}"),
                Call("partner", "GET", f"{API}/characters/999999"),
                Call("partner", "GET", f"{API}/characters/abc"),
                *refusals("GET", f"{API}/characters/{character}"),
                *limited("GET", f"{API}/characters/{character}"),
            ],
        ),
        "static-videos": (
            {200, 206, 304, 404, 416, 429},
            [
                Call("none", "GET", f"/static/videos/{video}.mp4"),
                Call("none", "HEAD", f"/static/videos/{video}.mp4"),
                Call("none", "GET", f"/static/videos/{video}.mp4", headers={"Range": "bytes=0-9"}),
                Call("none", "GET", f"/static/videos/{video}.mp4", headers={"Range": "lines=1-2"}),
                Call(
                    "none", "GET", f"/static/videos/{video}.mp4", headers={"Range": "bytes=99999-"}
                ),
                Call("none", "GET", f"/static/videos/{video}.mp4", headers={"If-None-Match": "*"}),
                Call("none", "GET", f"/static/videos/{UNKNOWN_VIDEO_JOB}.mp4"),
                Call("none", "GET", f"/static/videos/{video}.mov"),
                *[
                    Call("none", "GET", f"/static/videos/{UNKNOWN_VIDEO_JOB}.mp4")
                    for _ in range(STATIC_MISSES_PER_MINUTE)
                ],
                Call("none", "GET", f"/static/videos/{video}.mp4"),
            ],
        ),
        "static-characters": (
            {404},
            [
                Call("none", "GET", "/static/characters/abcdefabcdef.mp4"),
                Call("none", "HEAD", "/static/characters/abcdefabcdef.mp4"),
                Call("none", "GET", "/static/characters/not-a-token.mp4"),
            ],
        ),
        "generate-video": (
            {400, 401, 402, 403, 413, 429},
            [
                Call("partner", "POST", f"{API}/generate-video", json={"prompt": ""}),
                Call("partner", "POST", f"{API}/generate-video", content=b"not json"),
                Call("partner", "POST", f"{API}/generate-video", json=local(duration=99)),
                Call("partner", "POST", f"{API}/generate-video", content=too_large),
                Call("poor", "POST", f"{API}/generate-video", json=local(duration=1)),
                *refusals("POST", f"{API}/generate-video", json=local(duration=1)),
                *limited("POST", f"{API}/generate-video", json={"prompt": ""}),
            ],
        ),
        "analyze": (
            {400, 401, 402, 403, 429},
            [
                Call("partner", "POST", f"{API}/analyze", json={"url": "https://example.com/ad"}),
                Call("partner", "POST", f"{API}/analyze", content=b"[]"),
                Call("poor", "POST", f"{API}/analyze", json={"url": "123456789"}),
                *refusals("POST", f"{API}/analyze", json={"url": "123456789"}),
                *limited("POST", f"{API}/analyze", json={}),
            ],
        ),
        "estimate": (
            {200, 400, 401, 403, 404, 429},
            [
                Call("partner", "POST", f"{API}/estimate", json={"endpoint": "analyze"}),
                Call(
                    "partner",
                    "POST",
                    f"{API}/estimate",
                    json={"endpoint": "generate-video", "body": local(duration=5)},
                ),
                Call("poor", "POST", f"{API}/estimate", json={"endpoint": "characters"}),
                Call("partner", "POST", f"{API}/estimate", content=b"[]"),
                Call(
                    "partner", "POST", f"{API}/estimate", json={"endpoint": "characters/9/finalize"}
                ),
                *refusals("POST", f"{API}/estimate", json={"endpoint": "analyze"}),
                *limited("POST", f"{API}/estimate", json={}),
            ],
        ),
        "create-character": (
            {400, 401, 403, 429},
            [
                Call("partner", "POST", f"{API}/characters", json={"name": ""}),
                Call("partner", "POST", f"{API}/characters", content=b"{"),
                *refusals("POST", f"{API}/characters", json={"name": "A", "prompt": "B"}),
                *limited("POST", f"{API}/characters", json={}),
            ],
        ),
        "cancel": (
            {200, 400, 401, 403, 404, 429},
            [
                Call("other", "POST", f"{API}/jobs/{video}/cancel"),
                Call("partner", "POST", f"{API}/jobs/{video}/cancel"),
                Call("partner", "POST", f"{API}/jobs/{video}/cancel"),  # idempotent
                Call("partner", "POST", f"{API}/jobs/{analysis}/cancel"),
                Call("partner", "POST", f"{API}/jobs/{UNKNOWN_VIDEO_JOB}/cancel"),
                Call("partner", "POST", f"{API}/jobs/not-a-job-id/cancel"),
                *refusals("POST", f"{API}/jobs/{video}/cancel"),
                *limited("POST", f"{API}/jobs/{UNKNOWN_ANALYSIS_JOB}/cancel"),
            ],
        ),
        "finalize-character": (
            {400, 401, 403, 404, 429},
            [
                Call("partner", "POST", f"{API}/characters/{character}/finalize"),
                Call("other", "POST", f"{API}/characters/{character}/finalize"),
                Call("partner", "POST", f"{API}/characters/999999/finalize", json={}),
                *refusals("POST", f"{API}/characters/{character}/finalize"),
                *limited("POST", f"{API}/characters/999999/finalize"),
            ],
        ),
        "create-webhook": (
            {400, 401, 403, 413, 429},
            [
                Call("partner", "POST", f"{API}/webhooks", json={"url": "ftp://93.184.215.14/"}),
                Call("partner", "POST", f"{API}/webhooks", json={"url": "https://127.0.0.1/"}),
                Call(
                    "partner",
                    "POST",
                    f"{API}/webhooks",
                    json={"url": "https://[::1]/", "events": ["x"]},
                ),
                Call("partner", "POST", f"{API}/webhooks", content=b"[]"),
                Call("partner", "POST", f"{API}/webhooks", content=too_large),
                *refusals("POST", f"{API}/webhooks", json={"url": HOOK_URL}),
                *limited("POST", f"{API}/webhooks", json={}),
            ],
        ),
        "webhooks": (
            {200, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/webhooks"),
                Call("other", "GET", f"{API}/webhooks"),
                *refusals("GET", f"{API}/webhooks"),
                *limited("GET", f"{API}/webhooks"),
            ],
        ),
        "delete-webhook": (
            {401, 403, 404, 429},
            [
                Call("other", "DELETE", f"{API}/webhooks/{webhook}"),
                Call("partner", "DELETE", f"{API}/webhooks/we_{'0' * 24}"),
                Call("partner", "DELETE", f"{API}/webhooks/not-an-id"),
                *refusals("DELETE", f"{API}/webhooks/{webhook}"),
                *limited("DELETE", f"{API}/webhooks/{webhook}"),
            ],
        ),
        "rotate-webhook": (
            {401, 403, 404, 429},
            [
                Call("other", "POST", f"{API}/webhooks/{webhook}/rotate"),
                Call("partner", "POST", f"{API}/webhooks/we_{'0' * 24}/rotate"),
                *refusals("POST", f"{API}/webhooks/{webhook}/rotate"),
                *limited("POST", f"{API}/webhooks/{webhook}/rotate"),
            ],
        ),
        "events": (
            {200, 400, 401, 403, 429},
            [
                Call("partner", "GET", f"{API}/events"),
                Call("partner", "GET", f"{API}/events?limit=1&after={event}"),
                Call("partner", "GET", f"{API}/events?after=evt_x"),
                Call("partner", "GET", f"{API}/events?limit=x"),
                Call("other", "GET", f"{API}/events?after={event}"),
                *refusals("GET", f"{API}/events"),
                *limited("GET", f"{API}/events"),
            ],
        ),
        "redeliver-event": (
            {200, 401, 403, 404, 429},
            [
                Call("partner", "POST", f"{API}/events/{event}/redeliver"),
                Call("other", "POST", f"{API}/events/{event}/redeliver"),
                Call("partner", "POST", f"{API}/events/evt_{'0' * 24}/redeliver"),
                *refusals("POST", f"{API}/events/{event}/redeliver"),
                *limited("POST", f"{API}/events/{event}/redeliver"),
            ],
        ),
    }


ROUTE_NAMES = [
    "credits",
    "video-status",
    "status",
    "videos",
    "analyses",
    "characters",
    "character",
    "static-videos",
    "static-characters",
    "generate-video",
    "analyze",
    "estimate",
    "create-character",
    "cancel",
    "finalize-character",
    "create-webhook",
    "webhooks",
    "delete-webhook",
    "rotate-webhook",
    "events",
    "redeliver-event",
]


async def make_partners(setup: Harness, tmp_path: Path) -> Partners:
    """Partners, keys and one job, character and stored video of each kind, made through the API."""
    engine = setup.container.engine
    partner, other = await setup.partner(credits=1000), await setup.partner(credits=1000)
    poor = await setup.partner(credits=0)
    limited = await setup.partner(credits=1000)
    await admin.key_limits(engine, limited["key_prefix"], dict.fromkeys(DEFAULT_RATE_LIMITS, 1))
    deactivated = await setup.extra_key(partner["account"])
    await admin.deactivate_key(engine, deactivated["Authorization"].removeprefix("Bearer "))

    video = await setup.client.post(
        f"{API}/generate-video", headers=partner["headers"], json=local(duration=1)
    )
    analysis = await setup.client.post(
        f"{API}/analyze", headers=partner["headers"], json={"url": "123456789"}
    )
    character = await create_character(setup.client, partner["headers"])
    webhook = await setup.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": HOOK_URL}
    )
    for response in (video, analysis, character, webhook):
        assert response.status_code == 200, response.text
    async with write_transaction(engine) as conn:  # an event, as a job's end writes one
        event = await setup.container.outbox.record(
            conn, partner["account_id"], "credits.low", {"credits_remaining": 1}
        )
    stored = tmp_path / "stored.mp4"
    stored.write_bytes(bytes(range(256)) * 8)
    setup.container.storage.put_file(video_key(video.json()["job_id"]), stored)

    return Partners(
        headers={
            "partner": partner["headers"],
            "other": other["headers"],
            "poor": poor["headers"],
            "limited": limited["headers"],
            "deactivated": deactivated,
            "none": {},
            "malformed": {"Authorization": "Basic abc"},
            "unknown": {"Authorization": f"Bearer {API_KEY_PREFIX}{'0' * 40}"},
        },
        video_job=video.json()["job_id"],
        analysis_job=analysis.json()["job_id"],
        character_id=character.json()["character_id"],
        webhook_id=webhook.json()["id"],
        event_id=event,
    )


@dataclass
class Twins:
    partners: Partners
    fast: Harness
    fastapi: Harness
    served_directly: list[int]


@pytest.fixture
async def twins(
    settings_factory: SettingsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Twins]:
    settings = settings_factory(
        max_body_bytes=MAX_BODY_BYTES,
        static_misses_per_minute=STATIC_MISSES_PER_MINUTE,
        auth_failures_per_minute=1000,
        throttle_delay_seconds=0,  # the throttled misses answer at once (ADR 0007's tarpit off)
        # Each twin counts its own requests: shared limits (Redis) would mix the two lanes' counts.
        redis_url=None,
    )
    async with running_harness(settings, run_workers=False) as setup:
        partners = await make_partners(setup, tmp_path)

    # Which app served a request through the fast lane (by ``id`` of the app).
    served_directly: list[int] = []
    serve = PartnerApp._serve

    async def counting_serve(
        app: PartnerApp, route: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        served_directly.append(id(app))
        await serve(app, route, scope, receive, send)

    monkeypatch.setattr(PartnerApp, "_serve", counting_serve)
    monkeypatch.setattr(
        "knightvision.ratelimit.limiter.time", SimpleNamespace(time=lambda: FROZEN_NOW)
    )
    async with (
        running_harness(settings, run_workers=False) as fast,
        running_harness(settings, run_workers=False, fast_lane=False) as fastapi,
    ):
        yield Twins(partners, fast, fastapi, served_directly)


async def answer(client: httpx.AsyncClient, partners: Partners, call: Call) -> Answer:
    response = await client.request(
        call.method,
        call.path,
        headers={**partners.headers[call.who], **call.headers},
        json=call.json,
        content=call.content,
    )
    body: Any = response.content
    if response.content and response.headers.get("content-type", "").startswith(
        "application/json"
    ):  # a HEAD answer has the headers of its GET and no body
        body = response.json()
        if isinstance(body, dict):
            body.pop("request_id", None)
    return Answer(
        status=response.status_code,
        body=body,
        headers={
            name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers
        },
        has_request_id="request-id" in response.headers,
    )


@pytest.mark.parametrize("route", ROUTE_NAMES)
async def test_fast_lane_answers_as_fastapi_does(twins: Twins, route: str) -> None:
    statuses, calls = routes(twins.partners)[route]
    fast = [await answer(twins.fast.client, twins.partners, call) for call in calls]
    assert twins.served_directly == [id(twins.fast.app)] * len(calls)
    fastapi = [await answer(twins.fastapi.client, twins.partners, call) for call in calls]
    assert twins.served_directly == [id(twins.fast.app)] * len(calls)

    for call, direct, routed in zip(calls, fast, fastapi, strict=True):
        assert direct == routed, call
    seen = [
        (call.who, call.method, call.path, a.status) for call, a in zip(calls, fast, strict=True)
    ]
    assert {a.status for a in fast} == statuses, seen


def reaches(route: APIRoute, call: Call) -> bool:
    scope = {"type": "http", "method": call.method, "path": call.path.partition("?")[0]}
    return route.matches(scope)[0] is Match.FULL


async def test_every_fast_lane_route_is_compared(twins: Twins) -> None:
    compared = [call for _, calls in routes(twins.partners).values() for call in calls]
    assert list(routes(twins.partners)) == ROUTE_NAMES
    app = twins.fast.app
    assert isinstance(app, PartnerApp)
    # What PartnerApp dispatches itself: (method, literal prefix, route) for each method of a route.
    assert len({id(route) for _, _, route in app._direct_routes}) == len(ROUTE_NAMES)
    for method, _, route in app._direct_routes:
        assert any(call.method == method and reaches(route, call) for call in compared), (
            method,
            route.path,
        )
