"""Analysis jobs as partners see them: submit (D4 order, D17 validation) and status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from knightvision.account.repository import KeyPrincipal
from knightvision.analysis.params import AnalysisJobParams, analysis_params
from knightvision.db.hot_reads import HotReads
from knightvision.errors import BadRequestError
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
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import is_analysis_job_id, new_job_id
from knightvision.providers.ad_source.urls import AdRef, InvalidAdUrl, parse_ad_url

ANALYSIS_JOB_KIND = "analysis.run"


class AnalysisService:
    def __init__(
        self, engine: AsyncEngine, reads: HotReads, queue: JobQueue, prices: dict[str, int]
    ) -> None:
        self.engine = engine
        self.status_reads = JobStatusReads(reads, ANALYSIS_JOB_KIND, is_analysis_job_id)
        self.queue = queue
        self.prices = prices

    async def quote(self, principal: KeyPrincipal, body: dict[str, Any]) -> int:
        """What ``submit`` would charge for ``body``, or the error it would answer."""
        self._ad_ref(body)
        return self.prices["analysis"]

    async def submit(
        self,
        principal: KeyPrincipal,
        body: dict[str, Any],
        record_reply: ReplyRecorder | None = None,
    ) -> dict[str, Any]:
        raw, ref = self._ad_ref(body)
        cost = self.prices["analysis"]
        job_id = new_job_id(utcnow())
        params: AnalysisJobParams = {
            "url": ref.url,
            "platform": ref.platform,
            "canonical_key": ref.canonical_key,
            "submitted_url": raw.strip(),
        }
        if principal.test_mode:
            params["test_mode"] = True
        remaining = await self.queue.submit_paid(
            job_id=job_id,
            account_id=principal.account_id,
            kind=ANALYSIS_JOB_KIND,
            params=params,
            cost=cost,
            reason="ad analysis",
            also=record_queued_reply(record_reply, job_id, cost),
        )
        return queued_reply(job_id, cost, remaining)

    @staticmethod
    def _ad_ref(body: dict[str, Any]) -> tuple[str, AdRef]:
        """The submitted URL (a numeric ad id may come as a JSON number) and the ad it names."""
        raw = body.get("url")
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str) or not raw.strip():
            raise BadRequestError("Please provide a URL", code="missing_url", param="url")
        try:
            return raw, parse_ad_url(raw)
        except InvalidAdUrl:
            raise BadRequestError(
                "Please provide a valid Facebook, Instagram, or TikTok URL",
                code="invalid_url",
                param="url",
            ) from None

    async def status(self, principal: KeyPrincipal, job_id: str) -> dict[str, Any]:
        return _status_view(await self.status_reads.row(principal.account_id, job_id))

    async def event_view(self, conn: AsyncConnection, job_id: str) -> dict[str, Any]:
        """The status view a webhook event carries, read in the job's finishing transaction."""
        return _status_view(await view_row(conn, job_id))

    async def list(
        self, principal: KeyPrincipal, limit: int, starting_after: str | None = None
    ) -> dict[str, Any]:
        """The account's analyses, newest first, without their results (one status read each):
        how a partner whose submit timed out finds the job it may have made."""
        rows, has_more = await job_page(
            self.engine, principal.account_id, ANALYSIS_JOB_KIND, limit, starting_after
        )
        return {"analyses": [present(_summary(row)) for row in rows], "has_more": has_more}


def _status_view(row: Any) -> dict[str, Any]:
    view = _summary(row)
    if row.status == JobStatus.COMPLETE:
        view["result"] = row.result
    return present(view)


def _summary(row: Any) -> dict[str, Any]:
    params = analysis_params(row.params)
    view = lifecycle_fields(row)
    view["url"] = params["submitted_url"]
    view["platform"] = params["platform"]
    view["test_mode"] = params.get("test_mode")
    return view
