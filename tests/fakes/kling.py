"""A fake Kling API (text2video) with real JWT checking.

Bearer tokens must be HS256 JWTs signed with the secret key, ``iss`` = the access key, inside
``nbf``/``exp``; otherwise 401 with code 1000-1004. Answers are ``{"code": 0, "message",
"request_id", "data"}``. ``POST /v1/videos/text2video`` rejects a reused ``external_task_id``
(unique per account); ``GET /v1/videos/text2video/{task_id}`` goes submitted -> processing ->
succeed (``task_result.videos[0].url``) | failed (``task_status_msg``); ``GET
/v1/videos/text2video?pageNum&pageSize`` lists tasks newest first.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.upstream import FakeTask, FakeUpstream, bearer, size_for

MODELS = {
    "kling-v3": tuple(range(3, 16)),
    "kling-v2-6": (5, 10),
    "kling-v2-5-turbo": (5, 10),
    "kling-v1-6": (5, 10),
    "kling-v2-master": (5, 10),
    "kling-v2-1-master": (5, 10),
}
PRO_ONLY = ("kling-v2-master", "kling-v2-1-master")  # master models render pro (1080p) only
MAX_PROMPT = 2500


class FakeKling(FakeUpstream):
    name = "kling"
    access_key = "ak-test-kling"
    secret_key = "sk-test-kling-secret-0123456789abcdef"

    def reset(self) -> None:
        super().reset()
        self.external_ids: dict[str, str] = {}
        self.tokens_seen: set[str] = set()

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos/text2video", self.create, methods=["POST"]),
            Route("/v1/videos/text2video", self.list_tasks, methods=["GET"]),
            Route("/v1/videos/text2video/{task_id}", self.query, methods=["GET"]),
        ]

    def envelope(
        self, code: int, message: str, data: Any = None, status: int = 200
    ) -> JSONResponse:
        return JSONResponse(
            {"code": code, "message": message, "request_id": secrets.token_hex(8), "data": data},
            status_code=status,
        )

    def _auth(self, request: Request) -> JSONResponse | None:
        token = bearer(request)
        if token is None:
            return self.envelope(1001, "Authorization is empty", status=401)
        try:
            claims = jwt.decode(token, OctKey.import_key(self.secret_key)).claims
        except (JoseError, ValueError):
            return self.envelope(1002, "Authorization is invalid", status=401)
        now = time.time()
        if claims.get("iss") != self.access_key:
            return self.envelope(1002, "Authorization is invalid", status=401)
        if not claims.get("nbf", now) <= now + 1 or claims.get("exp", 0) < now:
            return self.envelope(1004, "Authorization has expired", status=401)
        self.tokens_seen.add(token)
        return None

    async def create(self, request: Request) -> Response:
        canned = self.canned_create()
        if canned is not None:
            return canned
        denied = self._auth(request)
        if denied is not None:
            return denied
        body = await request.json()
        model = body.get("model_name", "kling-v1")
        duration = body.get("duration", "5")
        if model not in MODELS:
            return self.envelope(1203, f"model {model} is not supported", status=404)
        if (
            not isinstance(duration, str)
            or not duration.isdigit()
            or int(duration) not in MODELS[model]
        ):
            return self.envelope(1201, "duration is invalid", status=400)
        aspect = body.get("aspect_ratio", "16:9")
        mode = body.get("mode", "std")
        if aspect not in ("16:9", "9:16", "1:1") or mode not in ("std", "pro"):
            return self.envelope(1201, "aspect_ratio or mode is invalid", status=400)
        if model in PRO_ONLY and mode != "pro":
            return self.envelope(1201, f"{model} supports mode pro only", status=400)
        if len(body.get("prompt") or "") > MAX_PROMPT:
            return self.envelope(1201, "prompt is too long", status=400)
        external = body.get("external_task_id")
        if external and external in self.external_ids:
            return self.envelope(1201, "external_task_id already exists", status=400)
        width, height = size_for("1080p" if mode == "pro" else "720p", aspect)
        task = self.new_task(
            str(self.next_number() * 7919 + 10**15), body, width, height, float(duration), external
        )
        if external:
            self.external_ids[external] = task.id
        return self.envelope(0, "SUCCESS", self._task_data(task, "submitted"))

    def _task_data(self, task: FakeTask, status: str, message: str = "") -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": task.id,
            "task_status": status,
            "task_status_msg": message,
            "task_info": {"external_task_id": task.key},
            "created_at": int(task.created * 1000),
            "updated_at": int(time.time() * 1000),
        }
        if status == "succeed":
            data["task_result"] = {
                "videos": [
                    {
                        "id": f"v{task.id}",
                        "url": self.file_url(task),
                        "duration": str(int(task.seconds)),
                    }
                ]
            }
            data["final_unit_deduction"] = "1"
        return data

    async def query(self, request: Request) -> Response:
        canned = await self.canned_poll()
        if canned is not None:
            return canned
        denied = self._auth(request)
        if denied is not None:
            return denied
        task = self.tasks.get(request.path_params["task_id"])
        if task is None:
            return self.envelope(1203, "task not found", status=404)
        state, _ = self.advance(task)
        if state == "running":
            return self.envelope(
                0,
                "SUCCESS",
                self._task_data(task, "submitted" if task.polls == 1 else "processing"),
            )
        if state == "failed":
            return self.envelope(
                0,
                "SUCCESS",
                self._task_data(
                    task, "failed", self.script.failure.get("message", "Internal error")
                ),
            )
        return self.envelope(0, "SUCCESS", self._task_data(task, "succeed"))

    async def list_tasks(self, request: Request) -> Response:
        denied = self._auth(request)
        if denied is not None:
            return denied
        size = int(request.query_params.get("pageSize", "30"))
        newest = sorted(self.tasks.values(), key=lambda t: t.created, reverse=True)[:size]
        return self.envelope(0, "SUCCESS", [self._task_data(task, "processing") for task in newest])
