"""Analysis jobs as partners see them: submit (D4 order, D17 validation) and status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.account.repository import KeyPrincipal
from knightvision.db.schema import jobs
from knightvision.errors import BadRequestError, InvalidJobIdError, JobNotFoundError
from knightvision.job.queue import JobQueue
from knightvision.job.views import lifecycle_fields, present
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import is_analysis_job_id, new_job_id
from knightvision.providers.ad_source.urls import InvalidAdUrl, parse_ad_url

ANALYSIS_JOB_KIND = "analysis.run"

_STATUS_COLUMNS = (
    jobs.c.id, jobs.c.status, jobs.c.message, jobs.c.progress, jobs.c.params, jobs.c.result, jobs.c.error,
    jobs.c.error_code, jobs.c.failed_stage, jobs.c.retryable, jobs.c.credits_used, jobs.c.credits_refunded,
    jobs.c.created_at, jobs.c.finished_at,
)


class AnalysisService:
    def __init__(self, engine: AsyncEngine, queue: JobQueue, prices: dict[str, int]) -> None:
        self.engine = engine
        self.queue = queue
        self.prices = prices

    async def submit(self, principal: KeyPrincipal, body: dict[str, Any]) -> dict[str, Any]:
        raw = body.get("url")
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a numeric ad id sent as a JSON number
        if not isinstance(raw, str) or not raw.strip():
            raise BadRequestError("Please provide a URL", code="missing_url")
        try:
            ref = parse_ad_url(raw)
        except InvalidAdUrl:
            raise BadRequestError("Please provide a valid Facebook, Instagram, or TikTok URL", code="invalid_url") from None
        cost = self.prices["analysis"]
        job_id = new_job_id(utcnow())
        params = {"url": ref.url, "platform": ref.platform, "canonical_key": ref.canonical_key, "submitted_url": raw.strip()}
        remaining = await self.queue.submit_paid(
            job_id=job_id, account_id=principal.account_id, kind=ANALYSIS_JOB_KIND, params=params, cost=cost,
            reason="ad analysis",
        )
        return {"job_id": job_id, "status": "queued", "credits_used": cost, "credits_remaining": remaining}

    async def status(self, principal: KeyPrincipal, job_id: str) -> dict[str, Any]:
        if not is_analysis_job_id(job_id):
            raise InvalidJobIdError()
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_STATUS_COLUMNS).where(
                        jobs.c.id == job_id, jobs.c.account_id == principal.account_id, jobs.c.kind == ANALYSIS_JOB_KIND
                    )
                )
            ).first()
        if row is None:
            raise JobNotFoundError()
        view = lifecycle_fields(row)
        view["url"] = row.params["submitted_url"]
        view["platform"] = row.params["platform"]
        if row.status == "complete":
            view["result"] = row.result
        return present(view)
