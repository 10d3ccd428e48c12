"""Finished videos at their permanent public URLs (D2), with Range support and throttled misses (D9)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from knightvision.api.guard import client_address
from knightvision.api.routing import DirectRoute
from knightvision.container import Container
from knightvision.errors import NotFoundError, RateLimitedError
from knightvision.kit.ids import is_video_job_id
from knightvision.video.pipeline import video_key


def static_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/static", include_in_schema=False, route_class=DirectRoute)
    settings = container.settings

    @router.get("/videos/{filename}")
    async def video_file(request: Request, filename: str) -> Response:
        job_id = filename.removesuffix(".mp4")
        address = client_address(request, settings.trusted_proxies)
        # A throttled address learns nothing, not even that a guessed id exists (D9).
        refused = await container.limiter.exceeded("static_misses", address, settings.static_misses_per_minute)
        if refused is not None:
            raise RateLimitedError(retry_after=refused.retry_after)
        path = container.storage.local_path(video_key(job_id)) if filename.endswith(".mp4") and is_video_job_id(job_id) else None
        if path is None:
            decision = await container.limiter.hit("static_misses", address, settings.static_misses_per_minute)
            if not decision.allowed:
                raise RateLimitedError(retry_after=decision.retry_after)
            raise NotFoundError()
        return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "public, max-age=31536000, immutable"})

    return router
