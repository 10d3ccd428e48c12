"""A fake kie.ai speaking its Market task protocol.

``POST /api/v1/jobs/createTask`` and ``GET /api/v1/jobs/recordInfo?taskId=`` answer the envelope
``{"code", "msg", "data"}`` (``script.options["message_key"] = "message"`` uses the other key the
docs show), with errors as HTTP 200 and an error ``code`` in the body. ``resultJson`` is a
JSON-encoded string; states go waiting -> queuing -> generating -> success | fail.
``POST /api/v1/common/download-url`` renews a result link.

Characters: ``sora-2-characters-pro`` takes ``origin_task_id`` (a finished Sora task of this fake),
``timestamps`` "start,end" (1-4 s inside that video), ``character_prompt`` (required, at most 1000)
and ``character_user_name`` (at most 40); its ``resultJson`` comes in the shape
``script.options["character_result"]`` names: ``resultObject`` (default), ``top`` or ``list``, as
kie's pages disagree. Sora videos accept ``character_id_list`` naming characters made here.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.upstream import FakeUpstream, bearer, size_for

SORA_ASPECT = {"landscape": "16:9", "portrait": "9:16"}


class FakeKie(FakeUpstream):
    name = "kie"
    api_key = "kie-test-key"

    def reset(self) -> None:
        super().reset()
        self.characters: dict[str, str] = {}  # character_id -> character_user_name
        self.succeeded: set[str] = set()  # tasks a poll has reported as success

    def _character(self, body: dict[str, Any], params: dict[str, Any]) -> Response:
        origin = self.tasks.get(str(params.get("origin_task_id", "")))
        if (
            origin is None
            or not str(origin.body.get("model", "")).startswith("sora-2")
            or origin.id not in self.succeeded
        ):
            return self.envelope(422, "origin_task_id must be a finished Sora task")
        try:
            start, end = (float(part) for part in str(params.get("timestamps", "")).split(","))
        except ValueError:
            return self.envelope(422, "timestamps must be 'start,end'")
        if not (start >= 0 and end <= origin.seconds and 1 <= end - start <= 4):
            return self.envelope(422, "timestamps must span 1-4 s inside the source video")
        prompt = params.get("character_prompt")
        if not isinstance(prompt, str) or not prompt or len(prompt) > 1000:
            return self.envelope(422, "character_prompt is required (max 1000 characters)")
        handle = params.get("character_user_name")
        if handle is not None and (not isinstance(handle, str) or len(handle) > 40):
            return self.envelope(422, "character_user_name must be at most 40 characters")
        task = self.new_task(secrets.token_hex(16), body, 0, 0, 0.0)
        return self.envelope(200, "success", {"taskId": task.id})

    def _character_result(self, task: Any) -> str:
        character_id = f"char_{task.id[:12]}"
        handle = task.body["input"].get("character_user_name") or f"kie{task.id[:6]}.ab"
        self.characters[character_id] = handle
        shape = self.script.options.get("character_result", "resultObject")
        if shape == "top":
            return json.dumps({"character_id": character_id})
        if shape == "list":
            return json.dumps({"character_id_list": character_id})
        return json.dumps(
            {
                "resultObject": {
                    "character_id": character_id,
                    "character_user_name": handle,
                    "remark": (
                        "insert this username directly into your prompt.(@character_user_name)."
                    ),
                }
            }
        )

    def routes(self) -> list[Route]:
        return [
            Route("/api/v1/jobs/createTask", self.create, methods=["POST"]),
            Route("/api/v1/jobs/recordInfo", self.record_info, methods=["GET"]),
            Route("/api/v1/common/download-url", self.download_url, methods=["POST"]),
        ]

    def envelope(self, code: int, msg: str, data: Any = None) -> JSONResponse:
        key = self.script.options.get("message_key", "msg")
        return JSONResponse({"code": code, key: msg, "data": data})

    async def create(self, request: Request) -> Response:
        canned = self.canned_create()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return self.envelope(401, "You do not have access permissions")
        body = await request.json()
        model, params = body.get("model"), body.get("input") or {}
        if model == "sora-2-characters-pro":
            return self._character(body, params)
        unknown = [c for c in params.get("character_id_list") or [] if c not in self.characters]
        if unknown or len(params.get("character_id_list") or []) > 5:
            return self.envelope(422, f"unknown characters {unknown}")
        if str(model or "").startswith("sora-2") and len(params.get("prompt") or "") > 10000:
            return self.envelope(422, "prompt must be at most 10000 characters")
        if model in ("sora-2-text-to-video", "sora-2-pro-text-to-video"):
            if (
                params.get("n_frames") not in ("10", "15")
                or params.get("aspect_ratio") not in SORA_ASPECT
            ):
                return self.envelope(422, "n_frames or aspect_ratio is invalid")
            seconds, aspect, resolution = (
                int(params["n_frames"]),
                SORA_ASPECT[params["aspect_ratio"]],
                "720p",
            )
            if params.get("size") == "high":
                resolution = "1080p"
        elif model == "sora-2-pro-storyboard":
            shots = params.get("shots")
            if (
                params.get("n_frames") not in ("10", "15", "25")
                or not isinstance(shots, list)
                or not shots
            ):
                return self.envelope(422, "n_frames and shots are required")
            if sum(shot.get("duration", 0) for shot in shots) != int(params["n_frames"]) or not all(
                "Scene" in s for s in shots
            ):
                return self.envelope(422, "shot durations must add up to n_frames")
            seconds, aspect, resolution = (
                int(params["n_frames"]),
                SORA_ASPECT[params.get("aspect_ratio", "landscape")],
                "720p",
            )
        elif model in ("kling-3.0/video", "kling-3.0", "kling/v3-turbo-text-to-video"):
            if params.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
                return self.envelope(422, "aspect_ratio is invalid")
            if len(params.get("prompt") or "") > 2500 or params.get("mode", "pro") not in (
                "std",
                "pro",
                "4K",
            ):
                return self.envelope(422, "prompt (max 2500) or mode is invalid")
            duration = params.get("duration")
            if (
                not isinstance(duration, str)
                or not duration.isdigit()
                or not 3 <= int(duration) <= 15
            ):
                return self.envelope(422, "duration must be a string 3-15")
            seconds, aspect = int(duration), params.get("aspect_ratio", "16:9")
            resolution = params.get("resolution") or (
                "1080p" if params.get("mode", "pro") == "pro" else "720p"
            )
        else:
            return self.envelope(422, f"model {model} is not supported")
        width, height = size_for(resolution, aspect)
        task = self.new_task(secrets.token_hex(16), body, width, height, float(seconds))
        return self.envelope(200, "success", {"taskId": task.id})

    async def record_info(self, request: Request) -> Response:
        canned = await self.canned_poll()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return self.envelope(401, "You do not have access permissions")
        task = self.tasks.get(request.query_params.get("taskId", ""))
        if task is None:
            return self.envelope(422, "recordInfo is null")
        state, _ = self.advance(task)
        data: dict[str, Any] = {
            "taskId": task.id,
            "model": task.body.get("model"),
            "param": json.dumps(task.body),
            "resultJson": "",
            "failCode": "",
            "failMsg": "",
            "createTime": int(task.created * 1000),
            "updateTime": int(task.created * 1000),
            "completeTime": None,
        }
        if state == "running":
            data["state"] = ("waiting", "queuing", "generating")[min(task.polls - 1, 2)]
            response = self.envelope(200, "success", data)
            response.headers.update(self.script.poll_headers)
            return response
        if state == "failed":
            data.update(
                state="fail",
                failCode=self.script.failure.get("code", "500"),
                failMsg=self.script.failure.get("message", "Internal server error"),
                resultJson=None,
            )
            return self.envelope(200, "success", data)
        self.succeeded.add(task.id)
        if task.body.get("model") == "sora-2-characters-pro":
            data.update(state="success", resultJson=self._character_result(task), costTime=8)
            return self.envelope(200, "success", data)
        data.update(
            state="success",
            resultJson=json.dumps({"resultUrls": [self.file_url(task)]}),
            costTime=8,
        )
        return self.envelope(200, "success", data)

    async def download_url(self, request: Request) -> Response:
        if bearer(request) != self.api_key:
            return self.envelope(401, "You do not have access permissions")
        url = (await request.json()).get("url", "")
        if not url.startswith(f"{self.url}/files/"):
            return self.envelope(422, "not a kie file url")
        return self.envelope(200, "success", f"{url}?fresh=1")
