"""Finished media at permanent public URLs (D2), with Range support and throttled misses (D9).

Videos are addressed by their job id, character videos by an unguessable token; both are public.
A client address that keeps missing is refused before anything is looked up, so it cannot learn
which guessed names exist.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from knightvision.api.guard import client_address
from knightvision.api.routing import DirectRoute
from knightvision.character.service import character_video_key
from knightvision.container import Container
from knightvision.errors import NotFoundError, RateLimitedError
from knightvision.kit.ids import is_video_job_id
from knightvision.pricing import RateLimitBucket
from knightvision.video.pipeline import video_key

_CHARACTER_TOKEN = re.compile(r"[0-9a-f]{24}")


def static_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/static", include_in_schema=False, route_class=DirectRoute)

    @router.get("/videos/{filename}")
    async def video_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = video_key(name) if filename.endswith(".mp4") and is_video_job_id(name) else None
        return await _public_file(request, container, key)

    @router.get("/characters/{filename}")
    async def character_file(request: Request, filename: str) -> Response:
        name = filename.removesuffix(".mp4")
        key = (
            character_video_key(name)
            if filename.endswith(".mp4") and _CHARACTER_TOKEN.fullmatch(name)
            else None
        )
        return await _public_file(request, container, key)

    return router


async def _public_file(request: Request, container: Container, key: str | None) -> Response:
    settings = container.settings
    address = client_address(request, settings.trusted_proxies)
    refused = await container.limiter.exceeded(
        RateLimitBucket.STATIC_MISSES, address, settings.static_misses_per_minute
    )
    if refused is not None:
        raise RateLimitedError(retry_after=refused.retry_after)
    path = container.storage.local_path(key) if key is not None else None
    if path is None:
        decision = await container.limiter.hit(
            RateLimitBucket.STATIC_MISSES, address, settings.static_misses_per_minute
        )
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)
        raise NotFoundError()
    return FileResponse(
        path,
        media_type="video/mp4",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
