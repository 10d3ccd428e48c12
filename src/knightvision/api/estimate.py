"""``POST /api/v1/partner/estimate`` (an addition): the price of a paid submit and whether the
balance covers it, after every check the submit itself would make; nothing is created or charged.

The body names the submit and carries its body unchanged:
``{"endpoint": "generate-video", "body": {"prompt": "…", "duration": 10}}``. An invalid submit body
gets the error the submit would answer (400, 404 or 500), so an estimate that succeeds is a submit
that would be accepted, at that price, while the balance lasts.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from knightvision.account.repository import KeyPrincipal
from knightvision.api.bodies import json_object
from knightvision.api.guard import Guard
from knightvision.api.request_webhook import RequestWebhooks
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import WITH_BODY, EstimateRead, error_responses, json_body
from knightvision.container import Container
from knightvision.credit import ledger
from knightvision.errors import BadRequestError
from knightvision.pricing import RateLimitBucket

PREFIX = "/api/v1/partner"
_FINALIZE = re.compile(r"characters/([^/]+)/finalize")
ENDPOINTS = ("analyze", "generate-video", "characters", "characters/<id>/finalize")

Quote = Callable[[KeyPrincipal, dict[str, Any]], Awaitable[int]]


def estimate_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["endpoint"],
        "properties": {
            "endpoint": {
                "type": "string",
                "description": "the paid submit to price: " + ", ".join(ENDPOINTS),
                "examples": ["generate-video", "characters/42/finalize"],
            },
            "body": {
                "type": "object",
                "description": "that submit's body, as it would be sent (default: empty)",
            },
        },
    }


def estimate_router(container: Container, guard: Guard) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["partner"], route_class=DirectRoute)
    fixed: dict[str, Quote] = {
        "analyze": container.analyses.quote,
        "generate-video": container.videos.quote,
        "characters": container.characters.quote_create,
    }

    def quote_for(endpoint: object) -> Quote:
        if isinstance(endpoint, str):
            if endpoint in fixed:
                return fixed[endpoint]
            finalize = _FINALIZE.fullmatch(endpoint)
            if finalize is not None:
                character = finalize.group(1)
                return lambda principal, body: container.characters.quote_finalize(
                    principal, character, body
                )
        raise BadRequestError(
            "Invalid endpoint", code="invalid_endpoint", param="endpoint", allowed=list(ENDPOINTS)
        )

    @router.post(
        "/estimate",
        operation_id="estimate",
        response_model=EstimateRead,
        responses=error_responses(400, 404, *WITH_BODY, 500),
        openapi_extra=json_body(estimate_schema()),
    )
    async def estimate(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.ESTIMATE)
        wrapper = await json_object(request)
        quote = quote_for(wrapper.get("endpoint"))
        body = wrapper.get("body", {})
        if not isinstance(body, dict):
            raise BadRequestError("body must be a JSON object", code="invalid_body", param="body")
        price = await quote(principal, body)
        await RequestWebhooks(container).check(principal, body)
        async with container.engine.connect() as conn:
            remaining = await ledger.balance(conn, principal.account_id)
        return json_response(
            request,
            {
                "endpoint": wrapper["endpoint"],
                "credits_required": price,
                "credits_remaining": remaining,
                "sufficient": remaining >= price,
            },
        )

    return router
