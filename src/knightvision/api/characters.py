"""Character routes: ``/api/v1/partner/characters…`` (D16) and the character videos' public URLs.

Rate-limit endpoints (D5): ``characters`` (GET and POST /characters share it), ``character``
(GET /characters/<id>) and ``character_finalize``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from knightvision.api.bodies import CHARACTERS_DEFAULT_LIMIT, json_object, list_cursor, list_limit
from knightvision.api.guard import Guard
from knightvision.api.idempotency import Idempotency
from knightvision.api.request_schemas import (
    character_create_schema,
    character_finalize_schema,
    list_parameters,
)
from knightvision.api.request_webhook import RequestWebhooks, both, with_webhook_url
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import (
    PAID_SUBMIT,
    CharacterRead,
    CharactersRead,
    CharacterSubmitted,
    FinalizeSubmitted,
    error_responses,
    json_body,
)
from knightvision.character import repository
from knightvision.character.upstream import character_upstream
from knightvision.container import Container
from knightvision.pricing import RateLimitBucket

PREFIX = "/api/v1/partner"


def characters_router(container: Container, guard: Guard) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["characters"], route_class=DirectRoute)
    characters = container.characters
    upstream = character_upstream(container.settings.character_route)
    idempotency = Idempotency(container.idempotency)
    webhook_urls = RequestWebhooks(container)

    @api.get(
        "/characters",
        operation_id="list_characters",
        response_model=CharactersRead,
        responses=error_responses(400),
        openapi_extra={
            "parameters": list_parameters(CHARACTERS_DEFAULT_LIMIT, "A character's id from a page")
        },
    )
    async def list_characters(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.CHARACTERS)
        limit = list_limit(request, default=CHARACTERS_DEFAULT_LIMIT)
        page = await characters.list(principal, limit, list_cursor(request))
        return json_response(request, page)

    @api.post(
        "/characters",
        operation_id="create_character",
        response_model=CharacterSubmitted,
        responses=error_responses(*PAID_SUBMIT, 500),
        openapi_extra=json_body(
            with_webhook_url(character_create_schema(upstream)), idempotent=True
        ),
    )
    async def create_character(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.CHARACTERS)
        body = await json_object(request)

        async def create_job(conn: AsyncConnection, reply: dict[str, Any]) -> str:
            ids = await repository.job_ids(conn, principal.account_id, reply["character_id"])
            return ids[0]

        own_url = await webhook_urls.recorder(principal, body, create_job)
        response = await idempotency.respond(
            request,
            principal,
            "characters",
            body,
            lambda record: characters.create(principal, body, both(record, own_url)),
        )
        container.wake_workers()
        return response

    @api.get(
        "/characters/{character_id}",
        operation_id="get_character",
        response_model=CharacterRead,
        responses=error_responses(404),
    )
    async def get_character(request: Request, character_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.CHARACTER)
        return json_response(request, await characters.get(principal, character_id))

    @api.post(
        "/characters/{character_id}/finalize",
        operation_id="finalize_character",
        response_model=FinalizeSubmitted,
        responses=error_responses(*PAID_SUBMIT, 404, 500),
        openapi_extra=json_body(
            with_webhook_url(character_finalize_schema(upstream)),
            required=False,
            idempotent=True,
        ),
    )
    async def finalize_character(request: Request, character_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.CHARACTER_FINALIZE)
        body = await json_object(request, empty_means={})  # an empty body: all defaults (D4a)

        async def finalize_job(conn: AsyncConnection, _: dict[str, Any]) -> str:
            ids = await repository.job_ids(conn, principal.account_id, int(character_id))
            assert ids[1] is not None  # the finalize just claimed it, in this transaction
            return ids[1]

        own_url = await webhook_urls.recorder(principal, body, finalize_job)
        response = await idempotency.respond(
            request,
            principal,
            f"characters/{character_id}/finalize",
            body,
            lambda record: characters.finalize(
                principal, character_id, body, both(record, own_url)
            ),
        )
        container.wake_workers()
        return response

    return api
