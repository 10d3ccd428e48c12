"""OpenAI Videos API (direct Sora): ``POST /videos``, ``GET /videos/{id}``,
``GET /videos/{id}/content``.

``seconds`` is a string ("4", "8" or "12", the spec's enum), ``size`` a ``WxH`` string; a Video
has ``status`` queued / in_progress / completed / failed and ``progress`` 0-100. Polls honour the
``openai-poll-after-ms`` hint, 429s their ``Retry-After``. The file is streamed from the content
endpoint (with our key); assets expire (``expires_at``), so we copy them at once. A 429 whose
code is ``insufficient_quota`` is OpenAI's way of saying the account is out of credits. The API
is deprecated (shutdown announced for 2026-09-24); the base URL is configurable so any
compatible service can stand in.

Characters (D16): ``POST /videos/characters`` (multipart ``name`` + ``video``, the 2-4 s segment we
cut) answers ``{"id": "char_…", "name"}`` at once; videos then send ``characters: [{"id"}]`` (at
most 2) and must say the character's name word for word in the prompt.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, ClassVar

import httpx

from knightvision.adapter_names import AdapterName
from knightvision.media.shapes import FRAME_SIZES
from knightvision.providers.video_model.capabilities import (
    RenderPlan,
    UpstreamCapabilities,
)
from knightvision.providers.video_model.catalogue import OPENAI
from knightvision.providers.video_model.port import (
    CharacterRegistration,
    GenerationError,
    GenerationRun,
    GenerationSpec,
)
from knightvision.providers.video_model.upstream_http import (
    MODERATION_BLOCKED,
    UPSTREAM_CREDITS,
    UPSTREAM_FAILED,
    UPSTREAM_MALFORMED,
    UPSTREAM_QUOTA,
    UPSTREAM_REJECTED,
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

CHARACTER = "character"  # the registered character, remembered for a retried job
CONTENT = "openai:content"  # the result "link": the content endpoint of the finished video
RETRYABLE_FAILURES = ("internal", "server_error", "timeout", "unavailable", "overloaded")


class OpenAIVideosAdapter(ApiKeyAdapter):
    name = AdapterName.OPENAI
    catalogue: ClassVar[dict[str, UpstreamCapabilities]] = OPENAI
    idempotent_create = False

    def request_body(self, spec: GenerationSpec, plan: RenderPlan) -> dict[str, Any]:
        width, height = FRAME_SIZES[(plan.resolution, plan.aspect_ratio)]
        body: dict[str, Any] = {
            "model": spec.upstream_model,
            "prompt": spec.prompt,
            "seconds": str(plan.duration),
            "size": f"{width}x{height}",
        }
        if spec.characters:
            body["characters"] = [{"id": character.upstream_id} for character in spec.characters]
        return body

    @logs_failures("character registration")
    async def register_character(
        self, registration: CharacterRegistration, run: GenerationRun
    ) -> dict[str, Any]:
        """Upload the cut segment as a character. OpenAI offers no idempotency key here: a crash
        between its answer and our checkpoint may register twice (the operator's cost, D14)."""
        known = run.recall(CHARACTER)
        if isinstance(known, dict) and known.get("character_id"):
            return known
        if registration.segment is None:
            raise GenerationError(UPSTREAM_REJECTED, f"{self.name} characters need the cut segment")
        video = registration.segment.read_bytes()
        async with self._client_factory() as client:
            http = UpstreamHttp(self.name, client)
            try:
                response = await http.request(
                    "POST",
                    f"{self.base_url}/videos/characters",
                    headers=self._headers(),
                    data={"name": registration.name},
                    files={"video": (f"{registration.handle}.mp4", video, "video/mp4")},
                )
                body = http.json_or_error(response, self._http_error)
            except GenerationError as exc:
                raise self.not_resent(exc) from exc
        character_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(character_id, str) or not character_id:
            raise GenerationError(
                UPSTREAM_MALFORMED, f"{self.name} created a character without an id"
            )
        name = (
            body.get("name")
            if isinstance(body.get("name"), str) and body.get("name")
            else registration.name
        )
        result = {"adapter": self.name, "character_id": character_id, "handle": name}
        await run.remember(CHARACTER, result)
        run.progress(1.0)
        return result

    async def _submit(
        self, http: UpstreamHttp, spec: GenerationSpec, plan: RenderPlan, key: str
    ) -> str:
        response = await http.request(
            "POST",
            f"{self.base_url}/videos",
            json=self.request_body(spec, plan),
            headers=self._headers(),
        )
        answer = http.json_or_error(response, self._http_error)
        return required_text(self.name, answer, "id", "create answer has no video id")

    async def _fetch(self, http: UpstreamHttp, task_id: str) -> TaskState:
        response = await http.request(
            "GET", f"{self.base_url}/videos/{task_id}", headers=self._headers()
        )
        if response.status_code == 404:
            raise TaskGone(self.name, task_id)
        body = http.json_or_error(response, self._http_error)
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise malformed(self.name, "video has no status")
        state = self.task_state(body)
        hint = response.headers.get("openai-poll-after-ms")
        if hint:
            with contextlib.suppress(ValueError):  # an unreadable hint: the usual poll interval
                state.poll_after = max(0.0, float(hint) / 1000.0)
        return state

    def task_state(self, body: dict[str, Any]) -> TaskState:
        status = body["status"].lower()
        fraction = percent(body.get("progress"))
        if status == "completed":
            return TaskState("succeeded", 1.0, result_url=CONTENT, raw=body)
        if status in ("failed", "cancelled"):
            code, message = error_parts(body, status)
            text = f"{code}: {message}" if code else message
            if looks_like_moderation(code, message):
                return TaskState(
                    "failed",
                    fraction,
                    error=GenerationError(
                        MODERATION_BLOCKED, f"{self.name} blocked the video ({text})"
                    ),
                    raw=body,
                )
            retryable = any(word in code.lower() for word in RETRYABLE_FAILURES)
            return TaskState(
                "failed",
                fraction,
                error=GenerationError(
                    UPSTREAM_FAILED, f"{self.name} video failed ({text})", retryable=retryable
                ),
                raw=body,
            )
        return TaskState("running", fraction, raw=body)

    async def _download(self, http: UpstreamHttp, task_id: str, url: str, path: Path) -> None:
        await http.download(
            f"{self.base_url}/videos/{task_id}/content",
            path,
            params={"variant": "video"},
            headers={**self._headers(), "Accept": "application/binary"},
            max_bytes=self.policy.max_download_bytes,
        )

    def _http_error(self, response: httpx.Response) -> GenerationError:
        code, message = response_error_parts(response)
        detail = f"{code}: {message}" if code else message
        if code == "insufficient_quota":
            return GenerationError(
                UPSTREAM_CREDITS, f"{self.name} account is out of credits ({detail})"
            )
        if code == "billing_hard_limit_reached":
            return GenerationError(UPSTREAM_QUOTA, f"{self.name} billing limit reached ({detail})")
        if response.status_code == 400 and looks_like_moderation(code, message):
            return GenerationError(
                MODERATION_BLOCKED, f"{self.name} blocked the request ({detail})"
            )
        return error_for_response(self.name, response, detail)
