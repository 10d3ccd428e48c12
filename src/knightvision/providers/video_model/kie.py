"""kie.ai Market tasks: ``POST /api/v1/jobs/createTask`` + ``GET /api/v1/jobs/recordInfo``.

Every answer is the envelope ``{"code", "msg"|"message", "data"}`` and errors usually arrive as
HTTP 200 with an error ``code`` in the body: success is ``code == 200`` and nothing else.
``resultJson`` and ``param`` are JSON-encoded strings. Sora 2 Pro reaches 25 s only through
``sora-2-pro-storyboard`` (one shot of the whole prompt); Kling 3.0 is ``kling-3.0/video`` with
``mode`` std (720p) / pro (1080p). kie offers no idempotency key or external id, so the rare
crash between its create call and our checkpoint may cost the operator a duplicate render (D14).
A dead result link is renewed through ``/api/v1/common/download-url`` (a 20-minute link).

Characters (D16): ``sora-2-characters-pro`` registers one from the Sora task that rendered the
character video, ``timestamps`` "start,end" (1-4 s) and a ``character_prompt``; the result
(``resultJson``, whose shape differs between kie's pages) carries ``character_id`` and the
``character_user_name`` handle. Videos then send ``character_id_list`` and write ``@handle``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from knightvision.adapter_names import AdapterName
from knightvision.providers.video_model.capabilities import (
    RenderPlan,
    UpstreamCapabilities,
)
from knightvision.providers.video_model.catalogue import KIE
from knightvision.providers.video_model.port import (
    CharacterRegistration,
    GenerationError,
    GenerationRun,
    GenerationSpec,
)
from knightvision.providers.video_model.upstream_http import (
    GENERATION_UNAVAILABLE,
    MODERATION_BLOCKED,
    UPSTREAM_FAILED,
    UPSTREAM_MALFORMED,
    UPSTREAM_QUOTA,
    UPSTREAM_REJECTED,
    UPSTREAM_UNAVAILABLE,
    TaskGone,
    TaskState,
    UpstreamHttp,
    body_text,
    error_for_response,
    looks_like_moderation,
    malformed,
    required_text,
)
from knightvision.providers.video_model.upstream_task import ApiKeyAdapter, logs_failures

RUNNING_STATES = {"waiting", "queuing", "generating", "pending", "processing", "running", "created"}
SORA_ASPECT = {"16:9": "landscape", "9:16": "portrait"}
# failCode values that mean kie's own trouble: failed tasks are not charged, so resubmit.
RETRYABLE_FAIL_CODES = {"500", "501", "455", "503", "504"}
CHARACTER_MODEL = "sora-2-characters-pro"
MAX_CHARACTER_PROMPT = 1000
MAX_HANDLE = 40


class KieAdapter(ApiKeyAdapter):
    name = AdapterName.KIE
    catalogue: ClassVar[dict[str, UpstreamCapabilities]] = KIE
    idempotent_create = False

    def request_body(self, spec: GenerationSpec, plan: RenderPlan) -> dict[str, Any]:
        model = spec.upstream_model or ""
        seconds = str(plan.duration)
        if model == "sora-2-pro-storyboard" or (
            model == "sora-2-pro-text-to-video" and plan.duration == 25
        ):
            if (
                spec.characters
            ):  # kie does not say the storyboard takes characters: never drop them silently
                raise GenerationError(
                    GENERATION_UNAVAILABLE,
                    f"{self.name} sora-2-pro-storyboard does not take characters",
                )
            return {
                "model": "sora-2-pro-storyboard",
                "input": {
                    "n_frames": seconds,
                    "aspect_ratio": SORA_ASPECT[plan.aspect_ratio],
                    "shots": [{"Scene": spec.prompt, "duration": plan.duration}],
                },
            }
        if model.startswith("sora-2"):
            sora: dict[str, Any] = {
                "prompt": spec.prompt,
                "aspect_ratio": SORA_ASPECT[plan.aspect_ratio],
                "n_frames": seconds,
                "remove_watermark": True,
            }
            if model.startswith("sora-2-pro"):
                sora["size"] = "high" if plan.resolution == "1080p" else "standard"
            if spec.characters:
                sora["character_id_list"] = [character.upstream_id for character in spec.characters]
            return {"model": model, "input": sora}
        if model == "kling/v3-turbo-text-to-video":
            return {
                "model": model,
                "input": {
                    "prompt": spec.prompt,
                    "duration": seconds,
                    "aspect_ratio": plan.aspect_ratio,
                    "resolution": plan.resolution,
                },
            }
        if model.startswith("kling-3.0"):
            return {
                "model": model,
                "input": {
                    "prompt": spec.prompt,
                    "duration": seconds,
                    "aspect_ratio": plan.aspect_ratio,
                    "mode": "pro" if plan.resolution == "1080p" else "std",
                    "sound": False,
                    "multi_shots": False,
                },
            }
        raise GenerationError(GENERATION_UNAVAILABLE, f"{self.name} has no model {model!r}")

    async def _submit(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, key: str
    ) -> str:
        return await self._create_task(http, self.request_body(spec, plan))

    async def _create_task(self, http: UpstreamHttp, body: dict[str, Any]) -> str:
        response = await http.request(
            "POST", f"{self.base_url}/api/v1/jobs/createTask", json=body, headers=self._headers()
        )
        return required_text(
            self.name, self._data(http, response), "taskId", "createTask answer has no taskId"
        )

    def character_body(self, registration: CharacterRegistration) -> dict[str, Any]:
        # kie wants "one short line of stable traits"; the partner's character_prompt is a pose.
        traits = " ".join(registration.traits.split())
        prompt = (
            f"{traits} ({registration.character_prompt})"
            if traits
            else registration.character_prompt
        )
        return {
            "model": CHARACTER_MODEL,
            "input": {
                "origin_task_id": registration.origin_task_id,
                "timestamps": f"{registration.timestamp_start},{registration.timestamp_end}",
                "character_prompt": prompt[:MAX_CHARACTER_PROMPT],
                "character_user_name": registration.handle[:MAX_HANDLE],
            },
        }

    @logs_failures("character registration")
    async def register_character(
        self, registration: CharacterRegistration, run: GenerationRun
    ) -> dict[str, Any]:
        """``sora-2-characters-pro`` from the character video's own Sora task and the timestamps."""
        if not registration.origin_task_id:
            raise GenerationError(
                UPSTREAM_REJECTED, f"{self.name} needs the Sora task the character video came from"
            )
        body = self.character_body(registration)
        async with self._client_factory() as client:
            http = UpstreamHttp(self.name, client)
            task_id, state = await self._character_task(
                http, run, lambda: self._create_task(http, body)
            )
        character_id, handle = character_result(state.raw.get("resultJson"))
        if not character_id:
            raise GenerationError(
                UPSTREAM_MALFORMED,
                f"{self.name} character task {task_id} finished without a character_id",
            )
        return {
            "adapter": self.name,
            "character_id": character_id,
            "handle": handle or body["input"]["character_user_name"],
            "task_id": task_id,
        }

    async def _fetch(self, http: UpstreamHttp, task_id: str) -> TaskState:
        response = await http.request(
            "GET",
            f"{self.base_url}/api/v1/jobs/recordInfo",
            params={"taskId": task_id},
            headers=self._headers(),
        )
        try:
            data = self._data(http, response)
        except GenerationError as exc:
            if exc.code == UPSTREAM_REJECTED:  # 404/422: kie does not know this task (any more)
                raise TaskGone(self.name, task_id) from exc
            raise
        if not isinstance(data, dict) or not isinstance(data.get("state"), str):
            raise malformed(self.name, "recordInfo has no state")
        return self.task_state(data)

    def task_state(self, data: dict[str, Any]) -> TaskState:
        state = data["state"].lower()
        progress = data.get("progress")
        fraction = None
        if isinstance(progress, (int, float)) and not isinstance(progress, bool):
            fraction = progress / 100.0 if progress > 1 else float(progress)
        if state == "success":
            return TaskState(
                "succeeded", 1.0, result_url=_result_url(data.get("resultJson")), raw=data
            )
        if state in ("fail", "failed", "error"):
            return TaskState("failed", fraction, error=self._task_error(data), raw=data)
        return TaskState("running", fraction, raw=data)

    def _task_error(self, data: dict[str, Any]) -> GenerationError:
        code = str(data.get("failCode") or "").strip()
        message = body_text(data.get("failMsg") or "task failed")
        text = f"{code}: {message}" if code else message
        if looks_like_moderation(message, code):
            return GenerationError(MODERATION_BLOCKED, f"{self.name} blocked the video ({text})")
        if code in ("400", "422"):
            return GenerationError(UPSTREAM_REJECTED, f"{self.name} rejected the request ({text})")
        return GenerationError(
            UPSTREAM_FAILED,
            f"{self.name} task failed ({text})",
            retryable=code in RETRYABLE_FAIL_CODES,
        )

    async def _fresh_link(self, http: UpstreamHttp, task_id: str, state: TaskState) -> str | None:
        """kie's documented renewal: a temporary (20 min) link for one of its file URLs."""
        if state.result_url:
            response = await http.request(
                "POST",
                f"{self.base_url}/api/v1/common/download-url",
                json={"url": state.result_url},
                headers=self._headers(),
            )
            try:
                data = self._data(http, response)
            except GenerationError:
                data = None
            if isinstance(data, str) and data:
                return data
        return await super()._fresh_link(http, task_id, state)

    def _data(self, http: UpstreamHttp, response: httpx.Response) -> Any:
        """The envelope's ``data``, or the error its HTTP status or body ``code`` means."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 and not (isinstance(body, dict) and "code" in body):
            raise error_for_response(self.name, response, body_text(response.text, 200))
        if not isinstance(body, dict):
            raise malformed(self.name, f"HTTP {response.status_code} body is not a JSON object")
        code: Any = body.get("code")
        message = body_text(body.get("msg") or body.get("message") or "")
        try:
            code = int(code)
        except (TypeError, ValueError):
            raise malformed(self.name, f"envelope code {code!r}") from None
        if code == 200:
            return body.get("data")
        if code == 433:
            error = GenerationError(
                UPSTREAM_QUOTA, f"{self.name} key usage limit reached ({message})"
            )
        elif code == 455:
            error = GenerationError(
                UPSTREAM_UNAVAILABLE,
                f"{self.name} is under maintenance ({message})",
                retryable=True,
            )
        elif code == 501:
            error = GenerationError(
                UPSTREAM_FAILED, f"{self.name} generation failed ({message})", retryable=True
            )
        elif code == 505:
            error = GenerationError(
                UPSTREAM_REJECTED, f"{self.name} has disabled this feature ({message})"
            )
        else:
            error = error_for_response(self.name, response, message, status=code)
        raise error


def _result_url(result_json: Any) -> str | None:
    """``resultJson`` is a JSON-encoded string (sometimes already an object): ``resultUrls[0]``."""
    if isinstance(result_json, str):
        try:
            result_json = json.loads(result_json)
        except ValueError:
            return None
    if not isinstance(result_json, dict):
        return None
    for key in ("resultUrls", "result_urls"):
        urls = result_json.get(key)
        if isinstance(urls, list):
            for url in urls:
                if isinstance(url, str) and url:
                    return url
    return None


def character_result(result_json: Any) -> tuple[str | None, str | None]:
    """``character_id`` and ``character_user_name`` from a character task's ``resultJson``: at the
    top level, under ``resultObject``, or as ``character_id_list`` (kie's pages disagree)."""
    if isinstance(result_json, str):
        try:
            result_json = json.loads(result_json)
        except ValueError:
            return None, None
    if not isinstance(result_json, dict):
        return None, None
    places = [result_json]
    if isinstance(result_json.get("resultObject"), dict):
        places.append(result_json["resultObject"])
    character_id = handle = None
    for place in places:
        value = place.get("character_id")
        if (
            character_id is None
            and isinstance(value, (str, int))
            and not isinstance(value, bool)
            and str(value)
        ):
            character_id = str(value)
        name = place.get("character_user_name")
        if handle is None and isinstance(name, str) and name:
            handle = name
    if character_id is None:
        for place in places:
            listed = place.get("character_id_list")
            if isinstance(listed, list):
                listed = next((item for item in listed if isinstance(item, str) and item), None)
            if isinstance(listed, str) and listed:
                character_id = listed
                break
    return character_id, handle
