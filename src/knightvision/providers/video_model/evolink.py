"""EvoLink (api.evolink.ai): ``POST /v1/videos/generations`` + ``GET /v1/tasks/{id}``.

The contract's catalogue is EvoLink's, parameter for parameter: ``sora-2`` 10/15 s,
``sora-2-pro`` 15/25 s with ``quality`` forced by duration (15 -> high, 25 -> standard),
``kling-v3-text-to-video`` / ``kling-o3-text-to-video`` 3-15 s at 720p/1080p. Errors arrive as
HTTP non-2xx with ``{"error": {"code": int|str, "message", "type"}}``; a failed task carries
``error.code`` as a string business code. We send an ``Idempotency-Key`` (a UUID derived from our
job id), so a create repeated after a crash replays the same task instead of rendering twice (D14).
Result links live 24 h; we copy the file at once.

Characters (D16): ``sora-character`` (beta) extracts one from a fetchable ``video_url`` (our public
URL of the character video) and ``timestamps`` "start,end" spanning at most 2 s; the task's
``result_data.character_name`` is the handle. How a later prompt uses it is undocumented, so no
EvoLink video route declares character support yet (``catalogue.EVOLINK``).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import httpx

from knightvision.adapter_names import AdapterName
from knightvision.providers.video_model.capabilities import (
    RenderPlan,
    UpstreamCapabilities,
)
from knightvision.providers.video_model.catalogue import EVOLINK
from knightvision.providers.video_model.port import (
    CharacterRegistration,
    GenerationError,
    GenerationRun,
    GenerationSpec,
)
from knightvision.providers.video_model.upstream_http import (
    MODERATION_BLOCKED,
    UPSTREAM_AUTH,
    UPSTREAM_CREDITS,
    UPSTREAM_FAILED,
    UPSTREAM_MALFORMED,
    UPSTREAM_QUOTA,
    UPSTREAM_REJECTED,
    UPSTREAM_UNAVAILABLE,
    TaskGone,
    TaskState,
    UpstreamHttp,
    error_for_response,
    error_parts,
    looks_like_moderation,
    malformed,
    percent,
    required_text,
    response_error_parts,
)
from knightvision.providers.video_model.upstream_task import ApiKeyAdapter, logs_failures

CONTENT_CODES = {
    "content_policy_violation",
    "content_filter",
    "sensitive_content",
    "moderation_blocked",
    "input_moderation_failed",
}
BALANCE_CODES = {
    "insufficient_quota",
    "insufficient_user_quota",
    "quota_not_enough",
    "account_balance_insufficient",
}
KEY_QUOTA_CODES = {
    "insufficient_token_quota",
    "key_quota_exhausted",
    "token_daily_quota_exceeded",
    "key_daily_quota_exhausted",
}
AUTH_CODES = {"key_disabled", "key_expired", "key_model_not_allowed", "user_disabled"}
UNAVAILABLE_CODES = {
    "no_available_channel",
    "model_unavailable",
    "channel_selection_failed",
    "service_unavailable",
}
# Task failure codes (docs' error-code page; retry column from EvoLink's own client).
TASK_REJECTED = {"invalid_parameters", "image_processing_error", "image_dimension_mismatch"}
TASK_FINAL = {"generation_failed_no_content"}
CHARACTER_MODEL = "sora-character"  # "change the prompt": resubmitting the same one is futile


class EvoLinkAdapter(ApiKeyAdapter):
    name = AdapterName.EVOLINK
    catalogue: ClassVar[dict[str, UpstreamCapabilities]] = EVOLINK
    idempotent_create = True

    def request_body(self, spec: GenerationSpec, plan: RenderPlan) -> dict[str, Any]:
        model = spec.upstream_model or ""
        body: dict[str, Any] = {
            "model": model,
            "prompt": spec.prompt,
            "duration": plan.duration,
            "aspect_ratio": plan.aspect_ratio,
        }
        if model.startswith("kling-"):
            body.update(quality=plan.resolution, sound="off")
        elif model == "sora-2-pro":
            body.update(
                quality="high" if plan.duration == 15 else "standard", remove_watermark=True
            )
        elif model == "sora-2":
            body.update(remove_watermark=True)
        return body

    async def _submit(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, key: str
    ) -> str:
        return await self._create_task(http, self.request_body(spec, plan), key)

    async def _create_task(self, http: UpstreamHttp, body: dict[str, Any], key: str) -> str:
        response = await http.request(
            "POST",
            f"{self.base_url}/v1/videos/generations",
            json=body,
            headers={**self._headers(), "Idempotency-Key": idempotency_key(key)},
        )
        answer = http.json_or_error(response, self._http_error)
        return required_text(self.name, answer, "id", "create answer has no task id")

    def character_body(self, registration: CharacterRegistration) -> dict[str, Any]:
        return {
            "model": CHARACTER_MODEL,
            "video_url": registration.video_url,
            "timestamps": f"{registration.timestamp_start},{registration.timestamp_end}",
        }

    @logs_failures("character registration")
    async def register_character(
        self, registration: CharacterRegistration, run: GenerationRun
    ) -> dict[str, Any]:
        """``sora-character`` from our public URL of the character video (EvoLink fetches it)."""
        if not registration.video_url:
            raise GenerationError(
                UPSTREAM_REJECTED,
                f"{self.name} characters need a public URL of the character video",
            )
        body = self.character_body(registration)
        key = f"kv-{registration.job_id or uuid.uuid4().hex}-character"
        async with self._client_factory() as client:
            http = UpstreamHttp(self.name, client)
            task_id, state = await self._character_task(
                http, run, lambda: self._create_task(http, body, key)
            )
        data = state.raw.get("result_data")
        name = data.get("character_name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name:
            raise GenerationError(
                UPSTREAM_MALFORMED,
                f"{self.name} character task {task_id} finished without a character_name",
            )
        return {"adapter": self.name, "character_id": name, "handle": name, "task_id": task_id}

    async def _fetch(self, http: UpstreamHttp, task_id: str) -> TaskState:
        response = await http.request(
            "GET", f"{self.base_url}/v1/tasks/{task_id}", headers=self._headers()
        )
        if response.status_code in (400, 404):  # invalid id / "Task not found or expired"
            raise TaskGone(self.name, task_id)
        body = http.json_or_error(response, self._http_error)
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise malformed(self.name, "task has no status")
        return self.task_state(body)

    def task_state(self, body: dict[str, Any]) -> TaskState:
        status = body["status"].lower()
        fraction = percent(body.get("progress"))
        if status == "completed":
            return TaskState("succeeded", 1.0, result_url=_result_url(body), raw=body)
        if status in ("failed", "cancelled", "canceled"):
            return TaskState("failed", fraction, error=self._task_error(body, status), raw=body)
        return TaskState(
            "running", fraction, raw=body
        )  # pending, processing, or a new word for them

    def _task_error(self, body: dict[str, Any], status: str) -> GenerationError:
        code, message = error_parts(body, status)
        code = code.lower()
        text = f"{code}: {message}" if code else message
        if code in CONTENT_CODES or looks_like_moderation(code, message):
            return GenerationError(MODERATION_BLOCKED, f"{self.name} blocked the video ({text})")
        if code in TASK_REJECTED:
            return GenerationError(UPSTREAM_REJECTED, f"{self.name} rejected the request ({text})")
        if code in TASK_FINAL:
            return GenerationError(UPSTREAM_FAILED, f"{self.name} task failed ({text})")
        # service_error, generation_timeout, resource_exhausted, quota_exceeded,
        # service_unavailable, request_cancelled, resource_not_found, unknown_error,
        # channel_*: failed tasks are not charged, so a fresh submission on the next attempt is
        # the right retry.
        return GenerationError(
            UPSTREAM_FAILED, f"{self.name} task {status} ({text})", retryable=True
        )

    def _http_error(self, response: httpx.Response) -> GenerationError:
        code, message = response_error_parts(response)
        code = code.lower()  # an int (= HTTP status) in older docs, a string in newer
        detail = f"{code}: {message}" if code and not code.isdigit() else message
        if code in CONTENT_CODES:
            return GenerationError(
                MODERATION_BLOCKED, f"{self.name} blocked the request ({detail})"
            )
        if code in KEY_QUOTA_CODES:
            return GenerationError(UPSTREAM_QUOTA, f"{self.name} key quota exhausted ({detail})")
        if code in BALANCE_CODES:
            return GenerationError(
                UPSTREAM_CREDITS, f"{self.name} account is out of credits ({detail})"
            )
        if code in AUTH_CODES:
            return GenerationError(UPSTREAM_AUTH, f"{self.name} refused our key ({detail})")
        if code in UNAVAILABLE_CODES or code.startswith("channel"):
            return GenerationError(
                UPSTREAM_UNAVAILABLE,
                f"{self.name} cannot serve the model now ({detail})",
                retryable=True,
            )
        return error_for_response(self.name, response, detail)


def idempotency_key(submission_key: str) -> str:
    """EvoLink's client sends a UUID: ours is derived from the submission key (our job id + n)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"knightvision:{submission_key}"))


def _result_url(body: dict[str, Any]) -> str | None:
    results = body.get("results")
    if isinstance(results, list):
        for item in results:
            if isinstance(item, str) and item:
                return item
    data = body.get("result_data")
    for item in data if isinstance(data, list) else [data]:
        url = item.get("video_url") if isinstance(item, dict) else None
        if isinstance(url, str) and url:
            return url
    return None
