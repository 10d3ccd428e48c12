"""A fake EvoLink (api.evolink.ai) speaking its documented video task protocol.

``POST /v1/videos/generations`` (Bearer auth, per-model validation, ``Idempotency-Key`` replay with
``idempotency-replayed: true``) and ``GET /v1/tasks/{id}`` (``task-unified-…`` ids; pending ->
processing -> completed with ``results[0]``, or failed with ``error: {code, message}``). HTTP errors
use ``{"error": {"code", "message", "type", "param"}}``; ``script.options["int_codes"]`` makes the
fake send ``error.code`` as an integer as older docs show, otherwise strings.

``sora-character`` takes ``video_url`` (http/https) and ``timestamps`` "start,end" spanning at most
2 s (else 400 "Invalid timestamps parameter"); ``result_data: {character_name,
profile_picture_url}`` is in the create answer already and in the completed task.
"""

from __future__ import annotations

import random
import string
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.upstream import FakeTask, FakeUpstream, bearer, size_for

SORA = {"sora-2": (10, 15), "sora-2-pro": (15, 25), "sora-2-preview": (4, 8, 12)}
KLING = ("kling-v3-text-to-video", "kling-o3-text-to-video")


def evolink_error(
    status: int, code: Any, message: str, type_: str, param: str | None = None
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "type": type_}
    if param:
        error["param"] = param
    return JSONResponse({"error": error}, status_code=status)


class FakeEvoLink(FakeUpstream):
    name = "evolink"
    api_key = "sk-evo-test"

    def reset(self) -> None:
        super().reset()
        self.idempotency: dict[str, str] = {}

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos/generations", self.create, methods=["POST"]),
            Route("/v1/tasks/{task_id}", self.task, methods=["GET"]),
        ]

    def _code(self, status: int, name: str) -> Any:
        return status if self.script.options.get("int_codes") else name

    async def create(self, request: Request) -> Response:
        canned = self.canned_create()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return evolink_error(
                401,
                self._code(401, "unauthorized"),
                "Invalid or expired token",
                "authentication_error",
            )
        body = await request.json()
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotency:
            task = self.tasks[self.idempotency[key]]
            return JSONResponse(
                self._task_object(task, "pending", 0), headers={"idempotency-replayed": "true"}
            )
        model = body.get("model")
        if model == "sora-character":
            return self._character(body, key)
        duration = body.get("duration")
        aspect = body.get("aspect_ratio", "16:9")
        if model in SORA:
            if duration not in SORA[model]:
                return evolink_error(
                    400,
                    self._code(400, "invalid_parameter"),
                    "Invalid duration parameter",
                    "invalid_request_error",
                    "duration",
                )
            if aspect not in ("16:9", "9:16"):
                return evolink_error(
                    400,
                    self._code(400, "invalid_parameter"),
                    "Invalid aspect_ratio parameter",
                    "invalid_request_error",
                    "aspect_ratio",
                )
            if model == "sora-2-pro" and body.get("quality") != (
                "high" if duration == 15 else "standard"
            ):
                return evolink_error(
                    400,
                    self._code(400, "invalid_parameter"),
                    "Invalid quality for duration",
                    "invalid_request_error",
                    "quality",
                )
            width, height = size_for("720p", aspect)
        elif model in KLING:
            if not isinstance(duration, int) or not 3 <= duration <= 15:
                return evolink_error(
                    400,
                    self._code(400, "invalid_parameter"),
                    "Invalid duration parameter",
                    "invalid_request_error",
                    "duration",
                )
            quality = body.get("quality", "720p")
            if quality not in ("720p", "1080p") or aspect not in ("16:9", "9:16", "1:1"):
                return evolink_error(
                    400,
                    self._code(400, "invalid_parameter"),
                    "Invalid quality parameter",
                    "invalid_request_error",
                    "quality",
                )
            width, height = size_for(quality, aspect)
        else:
            return evolink_error(
                404,
                self._code(404, "model_not_found"),
                "Specified model not found",
                "not_found_error",
                "model",
            )
        now = int(time.time())
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        task = self.new_task(
            f"task-unified-{now}-{suffix}", body, width, height, float(duration), key
        )
        if key:
            self.idempotency[key] = task.id
        return JSONResponse(self._task_object(task, "pending", 0))

    def _character(self, body: dict[str, Any], key: str | None) -> Response:
        url = body.get("video_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return evolink_error(
                400,
                self._code(400, "invalid_parameter"),
                "Invalid video_url parameter",
                "invalid_request_error",
                "video_url",
            )
        try:
            start, end = (float(part) for part in str(body.get("timestamps", "0,2")).split(","))
        except ValueError:
            start, end = -1.0, -1.0
        if not (0 <= start < end and end - start <= 2):
            return evolink_error(
                400,
                self._code(400, "invalid_parameter"),
                "Invalid timestamps parameter",
                "invalid_request_error",
                "timestamps",
            )
        now = int(time.time())
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        task = self.new_task(f"task-unified-{now}-{suffix}", body, 0, 0, 0.0, key)
        if key:
            self.idempotency[key] = task.id
        return JSONResponse(self._task_object(task, "pending", 0))

    def _task_object(self, task: FakeTask, status: str, progress: int) -> dict[str, Any]:
        model = task.body.get("model", "")
        return {
            "created": int(task.created),
            "id": task.id,
            "model": model,
            "object": "video.generation.task",
            "progress": progress,
            "status": status,
            "task_info": {"can_cancel": status in ("pending", "processing")},
            "type": "video",
            "usage": {
                "billing_rule": "per_second" if model.startswith("kling") else "per_call",
                "credits_reserved": 7,
            },
            **(
                {
                    "result_data": {
                        "character_name": f"chr_{task.id[-8:]}",
                        "profile_picture_url": f"{self.url}/files/{task.id}.jpg",
                    }
                }
                if model == "sora-character"
                else {}
            ),
        }

    async def task(self, request: Request) -> Response:
        canned = await self.canned_poll()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return evolink_error(
                401,
                self._code(401, "unauthorized"),
                "Invalid or expired token",
                "authentication_error",
            )
        task_id = request.path_params["task_id"]
        if not task_id.startswith("task-unified-"):
            return evolink_error(
                400,
                "invalid_task_id",
                "Invalid task ID format, must start with 'task-unified-'",
                "invalid_request_error",
            )
        task = self.tasks.get(task_id)
        if task is None:
            return evolink_error(
                404,
                self._code(404, "task_not_found"),
                "Task not found or expired",
                "not_found_error",
                "task_id",
            )
        state, progress = self.advance(task)
        if state == "running":
            return JSONResponse(
                self._task_object(task, "pending" if task.polls == 1 else "processing", progress),
                headers=self.script.poll_headers,
            )
        if state == "failed":
            body = self._task_object(task, self.script.failure.get("status", "failed"), 0)
            body["error"] = {
                "code": self.script.failure.get("code", "service_error"),
                "message": self.script.failure.get("message", "Internal error"),
            }
            return JSONResponse(body)
        body = self._task_object(task, "completed", 100)
        if task.body.get("model") == "sora-character":
            return JSONResponse(body)
        if self.script.options.get("result_data"):
            body["result_data"] = {"video_url": self.file_url(task)}
        else:
            body["results"] = [self.file_url(task)]
        return JSONResponse(body)
