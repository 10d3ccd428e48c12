"""Character routes: ``/api/v1/partner/characters…`` (issue 4) and the character videos' public URLs.

Rate-limit endpoints (D5): ``characters`` (GET and POST /characters share it), ``character``
(GET /characters/<id>) and ``character_finalize``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from knightvision.api.bodies import json_object, list_limit
from knightvision.api.guard import Guard, client_address
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import (
    ERROR_RESPONSES,
    CharacterCreate,
    CharacterFinalize,
    CharacterRead,
    CharactersRead,
    CharacterSubmitted,
    FinalizeSubmitted,
    json_body,
)
from knightvision.character.service import character_video_key
from knightvision.container import Container
from knightvision.errors import NotFoundError, RateLimitedError

PREFIX = "/api/v1/partner"
_PUBLIC_TOKEN = re.compile(r"[0-9a-f]{24}")
LIST_DEFAULT = 50  # a partner's characters usually fit one page; ?limit= as on /videos (D4a)


def characters_router(container: Container, guard: Guard) -> APIRouter:
    router = APIRouter(route_class=DirectRoute)
    api = APIRouter(prefix=PREFIX, tags=["characters"], route_class=DirectRoute)
    characters = container.characters
    settings = container.settings

    @api.get("/characters", operation_id="list_characters", response_model=CharactersRead, responses=ERROR_RESPONSES)
    async def list_characters(request: Request) -> Response:
        principal = await guard(request, "characters")
        limit = list_limit(request, default=LIST_DEFAULT)
        return json_response(request, await characters.list(principal, limit))

    @api.post(
        "/characters", operation_id="create_character", response_model=CharacterSubmitted, responses=ERROR_RESPONSES,
        openapi_extra=json_body(CharacterCreate),
    )
    async def create_character(request: Request) -> Response:
        principal = await guard(request, "characters")
        body = await json_object(request)
        submitted = await characters.create(principal, body)
        container.wake_workers()
        return json_response(request, submitted)

    @api.get("/characters/{character_id}", operation_id="get_character", response_model=CharacterRead, responses=ERROR_RESPONSES)
    async def get_character(request: Request, character_id: str) -> Response:
        principal = await guard(request, "character")
        return json_response(request, await characters.get(principal, character_id))

    @api.post(
        "/characters/{character_id}/finalize", operation_id="finalize_character", response_model=FinalizeSubmitted,
        responses=ERROR_RESPONSES, openapi_extra={"requestBody": {**json_body(CharacterFinalize)["requestBody"], "required": False}},
    )
    async def finalize_character(request: Request, character_id: str) -> Response:
        principal = await guard(request, "character_finalize")
        body = await json_object(request, empty_means={})  # an empty body: all defaults (D4a)
        submitted = await characters.finalize(principal, character_id, body)
        container.wake_workers()
        return json_response(request, submitted)

    @router.get("/static/characters/{filename}", include_in_schema=False)
    async def character_video(request: Request, filename: str) -> Response:
        token = filename.removesuffix(".mp4")
        address = client_address(request, settings.trusted_proxies)
        # Misses share the throttle of /static/videos/ (D9): a throttled address learns nothing.
        refused = await container.limiter.exceeded("static_misses", address, settings.static_misses_per_minute)
        if refused is not None:
            raise RateLimitedError(retry_after=refused.retry_after)
        path = None
        if filename.endswith(".mp4") and _PUBLIC_TOKEN.fullmatch(token):
            path = container.storage.local_path(character_video_key(token))
        if path is None:
            decision = await container.limiter.hit("static_misses", address, settings.static_misses_per_minute)
            if not decision.allowed:
                raise RateLimitedError(retry_after=decision.retry_after)
            raise NotFoundError()
        return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "public, max-age=31536000, immutable"})

    router.include_router(api)
    return router
