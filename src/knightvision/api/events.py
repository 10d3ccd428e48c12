"""The events feed (an addition): ``GET /api/v1/partner/events?after=&limit=`` oldest first, and
``POST /events/<id>/redeliver``; one rate-limit bucket."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from knightvision.api.bodies import VIDEOS_DEFAULT_LIMIT, list_limit
from knightvision.api.guard import Guard
from knightvision.api.request_schemas import limit_parameter
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import error_responses
from knightvision.api.webhook_schemas import EventsRead, Redelivered
from knightvision.container import Container
from knightvision.pricing import RateLimitBucket
from knightvision.webhooks.ids import EVENT_ID_PATTERN

PREFIX = "/api/v1/partner"


def events_router(container: Container, guard: Guard) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["events"], route_class=DirectRoute)
    feed = container.events

    @api.get(
        "/events",
        operation_id="list_events",
        response_model=EventsRead,
        responses=error_responses(400),
        openapi_extra={
            "parameters": [
                limit_parameter(VIDEOS_DEFAULT_LIMIT),
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 64},
                    "description": "An event's id from a page; the events after it (oldest "
                    "first). Unknown: 400 invalid_after",
                },
            ]
        },
    )
    async def list_events(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.EVENTS)
        after = request.query_params.get("after") or None
        page = await feed.page(principal.account_id, after, list_limit(request))
        return json_response(request, page)

    @api.post(
        "/events/{event_id}/redeliver",
        operation_id="redeliver_event",
        response_model=Redelivered,
        responses=error_responses(404),
        openapi_extra={
            "parameters": [
                {
                    "name": "event_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": f"^{EVENT_ID_PATTERN}$"},
                }
            ]
        },
    )
    async def redeliver_event(request: Request, event_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.EVENTS)
        reply = await feed.redeliver(principal.account_id, event_id)
        container.wake_workers()
        return json_response(request, reply)

    return api
