"""Partner API v1 routes (``/api/v1/partner/…``): guard, parse, call a service, render."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from knightvision.analysis.service import ANALYSIS_JOB_KIND
from knightvision.api.bodies import VIDEOS_DEFAULT_LIMIT, json_object, list_cursor, list_limit
from knightvision.api.guard import Guard
from knightvision.api.idempotency import Idempotency
from knightvision.api.request_schemas import analyze_schema, list_parameters, video_create_schema
from knightvision.api.request_webhook import RequestWebhooks, both, job_in_reply, with_webhook_url
from knightvision.api.responses import json_response
from knightvision.api.routing import DirectRoute
from knightvision.api.schemas import (
    JOB_FINISHED_RESPONSE,
    PAID_SUBMIT,
    AnalysesRead,
    AnalysisStatusRead,
    CreditsRead,
    Submitted,
    VideosRead,
    VideoStatusRead,
    error_responses,
    json_body,
)
from knightvision.container import Container
from knightvision.credit import ledger
from knightvision.errors import InvalidJobIdError
from knightvision.job.cancel import cancel_job
from knightvision.kit.ids import is_analysis_job_id, is_video_job_id
from knightvision.pricing import RateLimitBucket
from knightvision.video.service import VIDEO_JOB_KIND

PREFIX = "/api/v1/partner"


def partner_router(container: Container, guard: Guard) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["partner"], route_class=DirectRoute)
    videos = container.videos
    analyses = container.analyses
    prices = container.settings.price_table
    idempotency = Idempotency(container.idempotency)
    webhook_urls = RequestWebhooks(container)

    @router.post(
        "/analyze",
        operation_id="analyze_ad",
        response_model=Submitted,
        responses=error_responses(*PAID_SUBMIT),
        openapi_extra=json_body(with_webhook_url(analyze_schema()), idempotent=True),
    )
    async def analyze(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.ANALYZE)
        body = await json_object(request)
        own_url = await webhook_urls.recorder(principal, body, job_in_reply)
        response = await idempotency.respond(
            request,
            principal,
            "analyze",
            body,
            lambda record: analyses.submit(principal, body, both(record, own_url)),
        )
        container.wake_workers()
        return response

    @router.get(
        "/status/{job_id}",
        operation_id="get_analysis_status",
        response_model=AnalysisStatusRead,
        responses=error_responses(400, 404),
    )
    async def analysis_status(request: Request, job_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.STATUS)
        return json_response(request, await analyses.status(principal, job_id))

    @router.get(
        "/credits",
        operation_id="get_credits",
        response_model=CreditsRead,
        responses=error_responses(),
    )
    async def get_credits(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.CREDITS)
        async with container.engine.connect() as conn:
            remaining = await ledger.balance(conn, principal.account_id)
        return json_response(
            request,
            {
                "credits_remaining": remaining,
                "credit_cost_per_analysis": prices["analysis"],
                "costs": prices,
            },
        )

    @router.post(
        "/generate-video",
        operation_id="generate_video",
        response_model=Submitted,
        responses=error_responses(*PAID_SUBMIT, 500),
        openapi_extra=json_body(
            with_webhook_url(video_create_schema(container.registry.models())), idempotent=True
        ),
    )
    async def generate_video(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.GENERATE_VIDEO)
        body = await json_object(request)
        own_url = await webhook_urls.recorder(principal, body, job_in_reply)
        response = await idempotency.respond(
            request,
            principal,
            "generate-video",
            body,
            lambda record: videos.submit(principal, body, both(record, own_url)),
        )
        container.wake_workers()
        return response

    @router.get(
        "/video-status/{job_id}",
        operation_id="get_video_status",
        response_model=VideoStatusRead,
        responses=error_responses(400, 404),
    )
    async def video_status(request: Request, job_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.VIDEO_STATUS)
        return json_response(request, await videos.status(principal, job_id))

    @router.get(
        "/videos",
        operation_id="list_videos",
        response_model=VideosRead,
        responses=error_responses(400),
        openapi_extra={
            "parameters": list_parameters(VIDEOS_DEFAULT_LIMIT, "A video's job_id from a page")
        },
    )
    async def list_videos(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.VIDEOS)
        page = await videos.list(principal, list_limit(request), list_cursor(request))
        return json_response(request, page)

    @router.get(
        "/analyses",
        operation_id="list_analyses",
        response_model=AnalysesRead,
        responses=error_responses(400),
        openapi_extra={
            "parameters": list_parameters(VIDEOS_DEFAULT_LIMIT, "An analysis's job_id from a page")
        },
    )
    async def list_analyses(request: Request) -> Response:
        principal = await guard(request, RateLimitBucket.ANALYSES)
        page = await analyses.list(principal, list_limit(request), list_cursor(request))
        return json_response(request, page)

    @router.post(
        "/jobs/{job_id}/cancel",
        operation_id="cancel_job",
        response_model=AnalysisStatusRead | VideoStatusRead,
        responses={**error_responses(400, 404), **JOB_FINISHED_RESPONSE},
    )
    async def cancel(request: Request, job_id: str) -> Response:
        principal = await guard(request, RateLimitBucket.CANCEL)
        if not (is_analysis_job_id(job_id) or is_video_job_id(job_id)):
            raise InvalidJobIdError()
        kind = await cancel_job(
            container.queue, principal.account_id, job_id, (ANALYSIS_JOB_KIND, VIDEO_JOB_KIND)
        )
        service = analyses if kind == ANALYSIS_JOB_KIND else videos
        return json_response(request, await service.status(principal, job_id))

    return router
