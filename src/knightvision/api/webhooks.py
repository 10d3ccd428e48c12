"""Webhook endpoint routes (an addition): ``/api/v1/partner/webhooks…``, one rate-limit bucket.

The secret is in the replies to create and rotate only; lists never show it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from knightvision.api.bodies import json_object
from knightvision.api.guard import Guard
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import WITH_BODY, error_responses, json_body
from knightvision.api.webhook_schemas import (
    WebhookDeleted,
    WebhookEndpointsRead,
    WebhookEndpointWithSecret,
    webhook_create_schema,
)
from knightvision.container import Container
from knightvision.pricing import RateLimitBucket
from knightvision.webhooks.ids import ENDPOINT_ID_PATTERN

PREFIX = "/api/v1/partner"
_ENDPOINT_ID = {
    "parameters": [
        {
            "name": "webhook_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{ENDPOINT_ID_PATTERN}$"},
        }
    ]
}


def webhooks_router(container: Container, guard: Guard) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["webhooks"], route_class=DirectRoute)
    endpoints = container.webhooks

    @api.post(
        "/webhooks",
        operation_id="create_webhook",
        response_model=WebhookEndpointWithSecret,
        responses=error_responses(400, *WITH_BODY),
        openapi_extra=json_body(webhook_create_schema()),
    )
    async def create_webhook(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.WEBHOOKS)
        body = await json_object(request)
        return json_response(request, await endpoints.create(principal.account_id, body))

    @api.get(
        "/webhooks",
        operation_id="list_webhooks",
        response_model=WebhookEndpointsRead,
        responses=error_responses(),
    )
    async def list_webhooks(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.WEBHOOKS)
        return json_response(request, {"webhooks": await endpoints.list(principal.account_id)})

    @api.delete(
        "/webhooks/{webhook_id}",
        operation_id="delete_webhook",
        response_model=WebhookDeleted,
        responses=error_responses(404),
        openapi_extra=_ENDPOINT_ID,
    )
    async def delete_webhook(request: Request, webhook_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.WEBHOOKS)
        await endpoints.delete(principal.account_id, webhook_id)
        return json_response(request, {"id": webhook_id, "deleted": True})

    @api.post(
        "/webhooks/{webhook_id}/rotate",
        operation_id="rotate_webhook_secret",
        response_model=WebhookEndpointWithSecret,
        responses=error_responses(404),
        openapi_extra=_ENDPOINT_ID,
    )
    async def rotate_webhook_secret(request: Request, webhook_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.WEBHOOKS)
        return json_response(request, await endpoints.rotate(principal.account_id, webhook_id))

    return api
