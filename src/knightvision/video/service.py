"""Video jobs as partners see them: submit (D4 order), status, list."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.account.repository import KeyPrincipal
from knightvision.db.hot_reads import HotReads, OneRowQuery
from knightvision.db.schema import jobs
from knightvision.errors import GenerationUnavailableError, InvalidJobIdError, JobNotFoundError
from knightvision.job.queue import JobQueue
from knightvision.job.views import VIEW_COLUMNS, lifecycle_fields, present
from knightvision.kit.clock import format_wire, utcnow
from knightvision.kit.ids import is_video_job_id, new_job_id
from knightvision.providers.video_model.port import VideoModelAdapter
from knightvision.video.models import ModelRegistry
from knightvision.video.upstreams import upstream_refusal as route_refusal
from knightvision.video.validation import VideoRequest, parse_video_request

VIDEO_JOB_KIND = "video.generate"
# The most polled read of the API: one thread hop on SQLite (ADR 0003).
_STATUS_QUERY = OneRowQuery(
    select(*VIEW_COLUMNS).where(
        jobs.c.id == bindparam("job_id"),
        jobs.c.account_id == bindparam("account_id"),
        jobs.c.kind == VIDEO_JOB_KIND,
    )
)


class CharacterResolver(Protocol):
    async def for_video(self, account_id: int, request: VideoRequest) -> dict[str, Any]:
        """The job params a request's characters add (D16): resolved at submit, or a 400."""


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
        self.reads = reads
        self.queue = queue
        self.registry = registry
        self.adapters = adapters
        self.prices = prices
        self.base_url = base_url
        self.characters = characters

    def video_url(self, job_id: str) -> str:
        return f"{self.base_url}/static/videos/{job_id}.mp4"

    async def submit(self, principal: KeyPrincipal, body: dict[str, Any]) -> dict[str, Any]:
        request = parse_video_request(body, self.registry)
        with_characters: dict[str, Any] = {}
        if self.characters is not None and (request.character_ids or "@" in request.prompt):
            with_characters = await self.characters.for_video(principal.account_id, request)
        refusal = route_refusal(request.model, request)
        if refusal is not None:
            raise refusal
        adapter = self.adapters.get(request.model.adapter)
        if adapter is None or not adapter.available():
            raise GenerationUnavailableError()
        cost = request.model.price(request.duration, request.resolution, self.prices)
        width, height = request.frame_size
        now = utcnow()
        job_id = new_job_id(now, request.model.family)
        params = {
            "prompt": request.prompt,
            "model": request.model.name,
            "duration": request.duration,
            "aspect_ratio": request.aspect_ratio,
            "resolution": request.resolution,
            "width": width,
            "height": height,
            "adapter": request.model.adapter,
            "upstream_model": request.model.upstream_model,
            **with_characters,
        }
        remaining = await self.queue.submit_paid(
            job_id=job_id,
            account_id=principal.account_id,
            kind=VIDEO_JOB_KIND,
            params=params,
            cost=cost,
            reason=f"video {request.model.name}",
        )
        return {
            "job_id": job_id,
            "status": "queued",
            "credits_used": cost,
            "credits_remaining": remaining,
        }

    async def status(self, principal: KeyPrincipal, job_id: str) -> dict[str, Any]:
        if not is_video_job_id(job_id):
            raise InvalidJobIdError()
        row = await self.reads.first(
            _STATUS_QUERY, {"job_id": job_id, "account_id": principal.account_id}
        )
        if row is None:
            raise JobNotFoundError()
        return self._status_view(row)

    async def list(self, principal: KeyPrincipal, limit: int) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(*VIEW_COLUMNS)
                    .where(jobs.c.account_id == principal.account_id, jobs.c.kind == VIDEO_JOB_KIND)
                    .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [self._list_view(row) for row in rows]

    def _status_view(self, row: Any) -> dict[str, Any]:
        view = {**lifecycle_fields(row), **_shape(row.params)}
        if row.status == "complete":
            view.update(
                video_url=self.video_url(row.id),
                width=row.params["width"],
                height=row.params["height"],
            )
        return present(view)

    def _list_view(self, row: Any) -> dict[str, Any]:
        item: dict[str, Any] = {
            "job_id": row.id,
            "prompt": row.params["prompt"],
            **_shape(row.params),
            "credits_used": row.credits_used,
            "credits_refunded": row.credits_refunded,
            "status": row.status,
            "created_at": format_wire(row.created_at),
        }
        if row.status == "complete":
            item["video_url"] = self.video_url(row.id)
        if row.status == "error":
            item.update(error=row.error, error_code=row.error_code)
        return present(item)


def _shape(params: dict[str, Any]) -> dict[str, Any]:
    """What was asked for, as every view of a video job shows it."""
    return {name: params[name] for name in ("model", "duration", "aspect_ratio", "resolution")}
