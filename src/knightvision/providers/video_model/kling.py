"""Kling's own API: ``POST /v1/videos/text2video`` + ``GET /v1/videos/text2video/{task_id}``.

Auth is a short-lived JWT (HS256, ``iss`` = access key, ``exp`` = now + 30 min, ``nbf`` = now - 5 s)
signed with the secret key, sent as a Bearer token and renewed before it expires. Answers are
``{"code": 0, "message", "request_id", "data"}``; ``code != 0`` is an error whose number says which
(1000-1004 auth, 1101/1102 balance/resource pack, 1200s parameters, 1300s content policy,
1302/1303 rate/concurrency, 5000s server). Statuses: submitted -> processing -> succeed | failed.
We send ``external_task_id`` derived from our job id (unique per account), and after a crash
between create and checkpoint we find the task again in the task list by that id (D14).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from knightvision.adapter_names import AdapterName
from knightvision.kit.http import retry_after_seconds
from knightvision.providers.video_model.capabilities import (
    RenderPlan,
    UpstreamCapabilities,
)
from knightvision.providers.video_model.catalogue import KLING
from knightvision.providers.video_model.port import GenerationError, GenerationSpec
from knightvision.providers.video_model.upstream_http import (
    MODERATION_BLOCKED,
    UPSTREAM_AUTH,
    UPSTREAM_CREDITS,
    UPSTREAM_FAILED,
    UPSTREAM_QUOTA,
    UPSTREAM_REJECTED,
    UPSTREAM_UNAVAILABLE,
    RateLimited,
    TaskGone,
    TaskState,
    UpstreamHttp,
    body_text,
    error_for_response,
    looks_like_moderation,
    malformed,
    required_text,
)
from knightvision.providers.video_model.upstream_task import UpstreamTaskAdapter

TOKEN_LIFETIME = 1800
TOKEN_RENEW_BEFORE = 300
FIND_PAGE_SIZE = 100


def kling_jwt(access_key: str, secret_key: str, now: float | None = None) -> str:
    """The HS256 token Kling expects, signed with joserfc."""
    from joserfc import jwt  # imported here: only Kling routes need it
    from joserfc.jwk import OctKey

    issued = int(now if now is not None else time.time())
    claims = {"iss": access_key, "exp": issued + TOKEN_LIFETIME, "nbf": issued - 5}
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey.import_key(secret_key))


class KlingAdapter(UpstreamTaskAdapter):
    name = AdapterName.KLING
    catalogue: ClassVar[dict[str, UpstreamCapabilities]] = KLING
    idempotent_create = True  # external_task_id: found again instead of created twice

    def __init__(self, access_key: str | None, secret_key: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._access_key = access_key
        self._secret_key = secret_key
        self._token: tuple[str, float] | None = None

    def available(self) -> bool:
        return bool(self._access_key and self._secret_key)

    def _headers(self) -> dict[str, str]:
        now = self._clock()
        if self._token is None or self._token[1] - now < TOKEN_RENEW_BEFORE:
            assert self._access_key and self._secret_key
            self._token = (kling_jwt(self._access_key, self._secret_key, now), now + TOKEN_LIFETIME)
        return {"Authorization": f"Bearer {self._token[0]}"}

    def request_body(self, spec: GenerationSpec, plan: RenderPlan, key: str) -> dict[str, Any]:
        return {
            "model_name": spec.upstream_model,
            "prompt": spec.prompt,
            "duration": str(plan.duration),
            "aspect_ratio": plan.aspect_ratio,
            "mode": "pro" if plan.resolution == "1080p" else "std",
            "external_task_id": key,
        }

    async def _submit(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, key: str
    ) -> str:
        response = await http.request(
            "POST",
            f"{self.base_url}/v1/videos/text2video",
            json=self.request_body(spec, plan, key),
            headers=self._headers(),
        )
        return required_text(
            self.name, self._data(http, response), "task_id", "create answer has no task_id"
        )

    async def _find(self, http: UpstreamHttp, key: str) -> str | None:
        """The task we created with this external id before a crash, from the newest tasks."""
        response = await http.request(
            "GET",
            f"{self.base_url}/v1/videos/text2video",
            params={"pageNum": "1", "pageSize": str(FIND_PAGE_SIZE)},
            headers=self._headers(),
        )
        data = self._data(http, response)
        for item in data if isinstance(data, list) else []:
            info = item.get("task_info") if isinstance(item, dict) else None
            task_id = item.get("task_id")
            if (
                isinstance(info, dict)
                and info.get("external_task_id") == key
                and isinstance(task_id, str)
            ):
                return task_id
        return None

    async def _fetch(self, http: UpstreamHttp, task_id: str) -> TaskState:
        response = await http.request(
            "GET", f"{self.base_url}/v1/videos/text2video/{task_id}", headers=self._headers()
        )
        if response.status_code == 404:
            raise TaskGone(self.name, task_id)
        data = self._data(http, response)
        if not isinstance(data, dict) or not isinstance(data.get("task_status"), str):
            raise malformed(self.name, "task has no task_status")
        return self.task_state(data)

    def task_state(self, data: dict[str, Any]) -> TaskState:
        status = data["task_status"].lower()
        if status in ("succeed", "succeeded", "success"):
            return TaskState("succeeded", 1.0, result_url=_result_url(data), raw=data)
        if status == "failed":
            message = body_text(data.get("task_status_msg") or "task failed")
            if looks_like_moderation(message):
                error = GenerationError(
                    MODERATION_BLOCKED, f"{self.name} blocked the video ({message})"
                )
            else:
                error = GenerationError(UPSTREAM_FAILED, f"{self.name} task failed ({message})")
            return TaskState("failed", None, error=error, raw=data)
        return TaskState("running", None, raw=data)

    def _data(self, http: UpstreamHttp, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "code" not in body:
            if response.status_code >= 300:
                raise error_for_response(self.name, response, body_text(response.text, 200))
            raise malformed(self.name, f"HTTP {response.status_code} body is not Kling's envelope")
        code = body.get("code")
        if code == 0 and response.status_code < 300:
            return body.get("data")
        raise self._error(response, code, body_text(body.get("message") or ""))

    def _error(self, response: httpx.Response, code: Any, message: str) -> GenerationError:
        detail = f"{code}: {message}"
        number = code if isinstance(code, int) else -1
        if 1000 <= number <= 1004 or number in (1103, 1304):
            return GenerationError(UPSTREAM_AUTH, f"{self.name} refused our credentials ({detail})")
        if number in (1100, 1101):
            return GenerationError(UPSTREAM_CREDITS, f"{self.name} account cannot pay ({detail})")
        if number == 1102:
            return GenerationError(
                UPSTREAM_QUOTA, f"{self.name} resource pack exhausted or expired ({detail})"
            )
        if number in (1302, 1303):
            return RateLimited(self.name, retry_after_seconds(response.headers), detail)
        if number in (1300, 1301):
            return GenerationError(
                MODERATION_BLOCKED, f"{self.name} blocked the request ({detail})"
            )
        if 1200 <= number < 1300:
            return GenerationError(
                UPSTREAM_REJECTED, f"{self.name} rejected the request ({detail})"
            )
        if number >= 5000:
            return GenerationError(
                UPSTREAM_UNAVAILABLE, f"{self.name} is unavailable ({detail})", retryable=True
            )
        status = (
            response.status_code if response.status_code >= 300 else 400
        )  # a body error on a 2xx answer
        return error_for_response(self.name, response, detail, status=status)


def _result_url(data: dict[str, Any]) -> str | None:
    result = data.get("task_result")
    videos = result.get("videos") if isinstance(result, dict) else None
    for video in videos if isinstance(videos, list) else []:
        url = video.get("url") if isinstance(video, dict) else None
        if isinstance(url, str) and url:
            return url
    return None
