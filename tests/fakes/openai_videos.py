"""A fake OpenAI Videos API (Sora 2) under ``/v1``.

``POST /v1/videos`` (JSON or multipart, ``seconds`` as a string, ``size`` as ``WxH``), ``GET
/v1/videos/{id}`` (queued -> in_progress with ``progress`` -> completed | failed with ``error``; an
``openai-poll-after-ms`` hint when scripted), ``GET /v1/videos/{id}/content`` streaming the MP4 with
Bearer auth. Errors use ``{"error": {"message", "type", "param", "code"}}``.

Characters: ``POST /v1/videos/characters`` (multipart ``name`` 1-80 characters + ``video``, a
readable MP4; this fake also holds it to the guide's 2-4 s) answers ``{"id": "char_…", "name",
"created_at"}``; ``GET /v1/videos/characters/{id}`` reads one back. ``POST /v1/videos`` takes
``characters: [{"id"}]`` (at most 2, each made here). ``uploads`` records what was uploaded.
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.upstream import FakeTask, FakeUpstream, bearer

# Strict to the archived OpenAPI spec's enums (the newer guide's 16/20 s and 1080p sizes are not
# in it): a request outside them is the 400 a real upstream may answer.
SECONDS = ("4", "8", "12")
_SORA_SIZES = ("720x1280", "1280x720")
_PRO_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
SIZES = {  # the spec's model enum, snapshots included
    "sora-2": _SORA_SIZES,
    "sora-2-2025-10-06": _SORA_SIZES,
    "sora-2-2025-12-08": _SORA_SIZES,
    "sora-2-pro": _PRO_SIZES,
    "sora-2-pro-2025-10-06": _PRO_SIZES,
}
MAX_PROMPT = 32000


def parse_multipart(content_type: str, body: bytes) -> dict[str, str | bytes]:
    """multipart/form-data fields: text fields as str, file fields as their bytes (stdlib only)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = payload if part.get_filename() else payload.decode("utf-8")
    return fields


def openai_error(
    status: int, message: str, type_: str, code: str | None = None, param: str | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": type_, "param": param, "code": code}},
        status_code=status,
    )


class FakeOpenAIVideos(FakeUpstream):
    name = "openai"
    api_key = "sk-openai-test"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        super().reset()
        self.characters: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos/characters", self.create_character, methods=["POST"]),
            Route("/v1/videos/characters/{character_id}", self.get_character, methods=["GET"]),
            Route("/v1/videos", self.create, methods=["POST"]),
            Route("/v1/videos/{video_id}", self.retrieve, methods=["GET"]),
            Route("/v1/videos/{video_id}/content", self.content, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        canned = self.canned_create()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return openai_error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = await request.form()
            body: dict[str, Any] = {
                name: value for name, value in form.items() if isinstance(value, str)
            }
        else:
            body = await request.json()
        model = body.get("model", "sora-2")
        seconds = body.get("seconds", "4")
        size = body.get("size", "720x1280")
        if model not in SIZES:
            return openai_error(
                400, f"Invalid model {model}", "invalid_request_error", param="model"
            )
        if not 1 <= len(body.get("prompt") or "") <= MAX_PROMPT:
            return openai_error(
                400, "prompt must be 1-32000 characters", "invalid_request_error", param="prompt"
            )
        if seconds not in SECONDS:
            return openai_error(
                400, "Invalid value for seconds", "invalid_request_error", param="seconds"
            )
        if size not in SIZES[model]:
            return openai_error(
                400, "Invalid value for size", "invalid_request_error", param="size"
            )
        characters = body.get("characters") or []
        if (
            not isinstance(characters, list)
            or len(characters) > 2
            or any(
                not isinstance(c, dict) or c.get("id") not in self.characters for c in characters
            )
        ):
            return openai_error(
                400, "Invalid characters", "invalid_request_error", param="characters"
            )
        width, height = (int(part) for part in size.split("x"))
        task = self.new_task(f"video_{secrets.token_hex(12)}", body, width, height, float(seconds))
        return JSONResponse(self._video(task, "queued", 0))

    async def create_character(self, request: Request) -> Response:
        canned = self.canned_create()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return openai_error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return openai_error(400, "Expected multipart/form-data", "invalid_request_error")
        form = parse_multipart(content_type, await request.body())
        name, video = form.get("name"), form.get("video")
        if not isinstance(name, str) or not 1 <= len(name) <= 80:
            return openai_error(
                400, "name must be 1-80 characters", "invalid_request_error", param="name"
            )
        if not isinstance(video, bytes) or not video:
            return openai_error(400, "video is required", "invalid_request_error", param="video")
        data = video
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "upload.mp4"
            path.write_bytes(data)
            try:
                with av.open(str(path)) as container:
                    stream = container.streams.video[0]
                    seconds = float(container.duration / av.time_base)
                    width, height = stream.codec_context.width, stream.codec_context.height
            except (av.FFmpegError, IndexError):
                return openai_error(
                    400, "video is not a readable MP4", "invalid_request_error", param="video"
                )
        if not 1.9 <= seconds <= 4.1:
            return openai_error(
                400, "character videos must be 2-4 seconds", "invalid_request_error", param="video"
            )
        character = {
            "id": f"char_{secrets.token_hex(8)}",
            "name": name,
            "created_at": int(time.time()),
        }
        self.characters[character["id"]] = character
        self.uploads.append(
            {"name": name, "seconds": seconds, "width": width, "height": height, "bytes": len(data)}
        )
        return JSONResponse(character)

    async def get_character(self, request: Request) -> Response:
        if bearer(request) != self.api_key:
            return openai_error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        character = self.characters.get(request.path_params["character_id"])
        if character is None:
            return openai_error(
                404, "Character not found", "invalid_request_error", param="character_id"
            )
        return JSONResponse(character)

    def _video(
        self, task: FakeTask, status: str, progress: int, error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        completed = status == "completed"
        return {
            "id": task.id,
            "object": "video",
            "model": task.body.get("model", "sora-2"),
            "status": status,
            "progress": progress,
            "created_at": int(task.created),
            "completed_at": int(time.time()) if completed else None,
            "expires_at": int(time.time()) + 3600 if completed else None,
            "prompt": task.body.get("prompt"),
            "size": task.body.get("size", "720x1280"),
            "seconds": task.body.get("seconds", "4"),
            "remixed_from_video_id": None,
            "error": error,
        }

    async def retrieve(self, request: Request) -> Response:
        canned = await self.canned_poll()
        if canned is not None:
            return canned
        if bearer(request) != self.api_key:
            return openai_error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        task = self.tasks.get(request.path_params["video_id"])
        if task is None:
            return openai_error(404, "Video not found", "invalid_request_error", param="video_id")
        state, progress = self.advance(task)
        if state == "running":
            return JSONResponse(
                self._video(task, "in_progress", progress), headers=self.script.poll_headers
            )
        if state == "failed":
            error = {
                "code": self.script.failure.get("code", "internal_error"),
                "message": self.script.failure.get("message", "Video generation failed"),
            }
            return JSONResponse(self._video(task, "failed", progress, error))
        return JSONResponse(self._video(task, "completed", 100))

    async def content(self, request: Request) -> Response:
        if bearer(request) != self.api_key:
            self.download_calls += 1
            return openai_error(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )
        task = self.tasks.get(request.path_params["video_id"])
        if task is None or task.polls <= self.script.polls_to_finish:
            self.download_calls += 1
            return openai_error(404, "Video content not found", "invalid_request_error")
        return await self.serve_result(task)
