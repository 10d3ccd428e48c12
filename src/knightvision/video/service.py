"""Video jobs as partners see them: submit (D4 order), status, list."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.account.repository import KeyPrincipal
from knightvision.adapter_names import AdapterName
from knightvision.db.hot_reads import HotReads
from knightvision.errors import GenerationUnavailableError
from knightvision.job.queue import JobQueue
from knightvision.job.status import JobStatus
from knightvision.job.views import (
    JobStatusReads,
    ReplyRecorder,
    job_page,
    lifecycle_fields,
    present,
    queued_reply,
    record_queued_reply,
    view_row,
)
from knightvision.kit.clock import format_wire, utcnow
from knightvision.kit.ids import is_video_job_id, new_job_id
from knightvision.providers.video_model.port import VideoModelAdapter
from knightvision.video.models import ModelRegistry
from knightvision.video.params import VideoCharacters, VideoJobParams, video_params
from knightvision.video.upstreams import upstream_refusal
from knightvision.video.validation import VideoRequest, parse_video_request

VIDEO_JOB_KIND = "video.generate"


class CharacterResolver(Protocol):
    async def for_video(self, account_id: int, request: VideoRequest) -> VideoCharacters | None:
        """What a request's characters add to its params (D16), None when it names none:
        resolved at submit, or a 400."""


class VideoService:
    def __init__(
        self,
        engine: AsyncEngine,
        reads: HotReads,
        queue: JobQueue,
        registry: ModelRegistry,
        adapters: dict[str, VideoModelAdapter],
        prices: dict[str, int],
        base_url: str,
        characters: CharacterResolver | None = None,
    ) -> None:
        self.engine = engine
        self.status_reads = JobStatusReads(reads, VIDEO_JOB_KIND, is_video_job_id)
        self.queue = queue
        self.registry = registry
        self.adapters = adapters
        self.prices = prices
        self.base_url = base_url
        self.characters = characters

    def video_url(self, job_id: str) -> str:
        return f"{self.base_url}/static/videos/{job_id}.mp4"

    async def _accept(
        self, principal: KeyPrincipal, body: dict[str, Any]
    ) -> tuple[VideoRequest, VideoCharacters | None, int]:
        """Every check a submit makes before the charge (D4 order), and the price."""
        request = parse_video_request(body, self.registry)
        with_characters: VideoCharacters | None = None
        if self.characters is not None and (request.character_ids or "@" in request.prompt):
            with_characters = await self.characters.for_video(principal.account_id, request)
        refusal = upstream_refusal(request.model, request)
        if refusal is not None:
            raise refusal
        adapter = self.adapters.get(request.model.adapter)
        if adapter is None or not adapter.available():
            raise GenerationUnavailableError()
        return request, with_characters, self.price(request)

    def price(self, request: VideoRequest) -> int:
        return request.model.price(request.duration, request.resolution, self.prices)

    async def quote(self, principal: KeyPrincipal, body: dict[str, Any]) -> int:
        """What ``submit`` would charge for ``body``, or the error it would answer."""
        return (await self._accept(principal, body))[2]

    async def submit(
        self,
        principal: KeyPrincipal,
        body: dict[str, Any],
        record_reply: ReplyRecorder | None = None,
    ) -> dict[str, Any]:
        request, with_characters, cost = await self._accept(principal, body)
        width, height = request.frame_size
        now = utcnow()
        job_id = new_job_id(now, request.model.family)
        params: VideoJobParams = {
            "prompt": request.prompt,
            "model": request.model.name,
            "duration": request.duration,
            "aspect_ratio": request.aspect_ratio,
            "resolution": request.resolution,
            "width": width,
            "height": height,
            "adapter": request.model.adapter,
            "upstream_model": request.model.upstream_model,
        }
        if request.brand_color is not None:
            params["brand_color"] = request.brand_color
        if request.style is not None:
            params["style"] = request.style
        if with_characters is not None:
            params["characters"] = with_characters["characters"]
            params["render_prompt"] = with_characters["render_prompt"]
        if principal.test_mode:
            # The same shape and price as live, rendered here: no upstream is ever called.
            params["adapter"] = AdapterName.LOCAL_STORYBOARD
            params["upstream_model"] = None
            params["test_mode"] = True
        remaining = await self.queue.submit_paid(
            job_id=job_id,
            account_id=principal.account_id,
            kind=VIDEO_JOB_KIND,
            params=params,
            cost=cost,
            reason=f"video {request.model.name}",
            also=record_queued_reply(record_reply, job_id, cost),
        )
        return queued_reply(job_id, cost, remaining)

    async def status(self, principal: KeyPrincipal, job_id: str) -> dict[str, Any]:
        return self._status_view(await self.status_reads.row(principal.account_id, job_id))

    async def list(
        self, principal: KeyPrincipal, limit: int, starting_after: str | None = None
    ) -> dict[str, Any]:
        """The account's videos, newest first, one keyset page at a time."""
        rows, has_more = await job_page(
            self.engine, principal.account_id, VIDEO_JOB_KIND, limit, starting_after
        )
        return {"videos": [self._list_view(row) for row in rows], "has_more": has_more}

    async def event_view(self, conn: AsyncConnection, job_id: str) -> dict[str, Any]:
        """The status view a webhook event carries, read in the job's finishing transaction."""
        return self._status_view(await view_row(conn, job_id))

    def _status_view(self, row: Any) -> dict[str, Any]:
        params = video_params(row.params)
        view = {**lifecycle_fields(row), **_shape(params), "test_mode": params.get("test_mode")}
        if row.status == JobStatus.COMPLETE:
            view.update(
                video_url=self.video_url(row.id),
                width=params["width"],
                height=params["height"],
                render_notes=(row.result or {}).get("render_notes"),
            )
        return present(view)

    def _list_view(self, row: Any) -> dict[str, Any]:
        params = video_params(row.params)
        item: dict[str, Any] = {
            "job_id": row.id,
            "prompt": params["prompt"],
            **_shape(params),
            "credits_used": row.credits_used,
            "credits_refunded": row.credits_refunded,
            "status": row.status,
            "created_at": format_wire(row.created_at),
            "test_mode": params.get("test_mode"),
        }
        if row.status == JobStatus.COMPLETE:
            item["video_url"] = self.video_url(row.id)
        if row.status == JobStatus.ERROR:
            item.update(error=row.error, error_code=row.error_code)
        return present(item)


def _shape(params: VideoJobParams) -> dict[str, Any]:
    """What was asked for, as every view of a video job shows it."""
    return {
        "model": params["model"],
        "duration": params["duration"],
        "aspect_ratio": params["aspect_ratio"],
        "resolution": params["resolution"],
    }
