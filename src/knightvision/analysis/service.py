"""Analysis jobs as partners see them: submit (D4 order, D17 validation) and status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from knightvision.account.repository import KeyPrincipal
from knightvision.db.hot_reads import HotReads, OneRowQuery
from knightvision.db.schema import jobs
from knightvision.errors import BadRequestError, InvalidJobIdError, JobNotFoundError
from knightvision.job.queue import JobQueue
from knightvision.job.views import VIEW_COLUMNS, lifecycle_fields, present
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import is_analysis_job_id, new_job_id
from knightvision.providers.ad_source.urls import InvalidAdUrl, parse_ad_url

ANALYSIS_JOB_KIND = "analysis.run"

# Polled every few seconds by every partner with a job in flight: a hot-path read (ADR 0003).
_STATUS_QUERY = OneRowQuery(
    select(*VIEW_COLUMNS).where(
        jobs.c.id == bindparam("job_id"),
        jobs.c.account_id == bindparam("account_id"),
        jobs.c.kind == ANALYSIS_JOB_KIND,
    )
)


class AnalysisService:
    def __init__(self, reads: HotReads, queue: JobQueue, prices: dict[str, int]) -> None:
        self.reads = reads
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
            raise BadRequestError(
                "Please provide a valid Facebook, Instagram, or TikTok URL", code="invalid_url"
            ) from None
        cost = self.prices["analysis"]
        job_id = new_job_id(utcnow())
        params = {
            "url": ref.url,
            "platform": ref.platform,
            "canonical_key": ref.canonical_key,
            "submitted_url": raw.strip(),
        }
        remaining = await self.queue.submit_paid(
            job_id=job_id,
            account_id=principal.account_id,
            kind=ANALYSIS_JOB_KIND,
            params=params,
            cost=cost,
            reason="ad analysis",
        )
        return {
            "job_id": job_id,
            "status": "queued",
            "credits_used": cost,
            "credits_remaining": remaining,
        }

    async def status(self, principal: KeyPrincipal, job_id: str) -> dict[str, Any]:
        if not is_analysis_job_id(job_id):
            raise InvalidJobIdError()
        row = await self.reads.first(
            _STATUS_QUERY, {"job_id": job_id, "account_id": principal.account_id}
        )
        if row is None:
            raise JobNotFoundError()
        view = lifecycle_fields(row)
        view["url"] = row.params["submitted_url"]
        view["platform"] = row.params["platform"]
        if row.status == "complete":
            view["result"] = row.result
        return present(view)
