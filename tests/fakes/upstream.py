"""The machinery shared by the fake upstream video services: real HTTP on 127.0.0.1, scriptable.

Each fake is a Starlette app served by uvicorn in a background thread. A test scripts it through
``fake.script`` (how many polls until done, success or failure, canned answers for the next
create / poll / download calls, slow answers, the delivered shape) and reads its counters
(``create_calls``, ``tasks_created``, ``poll_calls``, ``download_calls``) and ``requests`` log.
Results are real MP4 files (``tests.fakes.media``) of the shape the request asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.media import sample_mp4


@dataclass
class Canned:
    """One scripted HTTP answer: a JSON body (dict/list), raw text, or nothing."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def response(self) -> Response:
        if isinstance(self.body, (dict, list)):
            return JSONResponse(self.body, status_code=self.status, headers=self.headers)
        return Response(
            self.body or b"", status_code=self.status, headers=self.headers, media_type="text/plain"
        )


@dataclass
class Script:
    polls_to_finish: int = 2  # polls answered "running" (with rising progress) before the end
    outcome: str = "success"  # or "failed"
    failure: dict[str, Any] = field(default_factory=dict)  # upstream-specific failure details
    never_finish: bool = False
    create_responses: list[Canned] = field(default_factory=list)  # answered instead, one per create
    poll_responses: list[Canned] = field(default_factory=list)  # answered instead, one per poll
    download_responses: list[Canned] = field(default_factory=list)  # e.g. Canned(404): expired link
    poll_delay: float = 0.0  # every poll answer waits this long (client timeouts)
    deliver: tuple[int, int, float] | None = None  # override the delivered WxH and seconds
    poll_headers: dict[str, str] = field(default_factory=dict)  # added to running-poll answers
    # The next N POSTs are handled (a task may be created) but answered only after this long: a
    # client that times out first cannot know whether the upstream acted on its request.
    stall_posts: int = 0
    stall_seconds: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)  # wire-shape variants a fake documents


@dataclass
class FakeTask:
    id: str
    body: dict[str, Any]
    width: int
    height: int
    seconds: float
    key: str | None = None
    polls: int = 0
    created: float = field(default_factory=time.time)


class FakeUpstream:
    """Base class: subclasses add their wire protocol's routes and shapes."""

    name = "fake"

    def __init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._ids = itertools.count(1)
        self.reset()

    # Scripting and counters -------------------------------------------------------------------

    def reset(self) -> None:
        self.script = Script()
        self.tasks: dict[str, FakeTask] = {}
        self.create_calls = 0
        self.tasks_created = 0
        self.poll_calls = 0
        self.download_calls = 0
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def file_url(self, task: FakeTask, suffix: str = "") -> str:
        return f"{self.url}/files/{task.id}.mp4{suffix}"

    def requests_to(self, path_part: str, method: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests
            if path_part in r["path"] and (method is None or r["method"] == method)
        ]

    # Lifecycle --------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def start(self, port: int = 0) -> FakeUpstream:
        """Serve on ``port`` (0: any free one). A test that starts a fake on a port its adapter
        already tried plays an upstream coming back after an outage."""
        routes = [*self.routes(), Route("/files/{name}", self._serve_file, methods=["GET"])]
        app = Starlette(
            routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=self._log)]
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} fake did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    async def _log(self, request: Request, call_next: Any) -> Response:
        raw = await request.body()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "json": parsed,
            }
        )
        response = await call_next(request)
        if request.method == "POST" and self.script.stall_posts > 0:
            self.script.stall_posts -= 1
            await asyncio.sleep(self.script.stall_seconds)
        return response

    # Helpers for subclasses ---------------------------------------------------------------------

    def new_task(
        self,
        task_id: str,
        body: dict[str, Any],
        width: int,
        height: int,
        seconds: float,
        key: str | None = None,
    ) -> FakeTask:
        if self.script.deliver is not None:
            width, height, seconds = self.script.deliver
        task = FakeTask(task_id, body, width, height, seconds, key)
        self.tasks[task_id] = task
        self.tasks_created += 1
        return task

    def next_number(self) -> int:
        return next(self._ids)

    def canned_create(self) -> Response | None:
        self.create_calls += 1
        if self.script.create_responses:
            return self.script.create_responses.pop(0).response()
        return None

    async def canned_poll(self) -> Response | None:
        self.poll_calls += 1
        if self.script.poll_delay:
            await asyncio.sleep(self.script.poll_delay)
        if self.script.poll_responses:
            canned = self.script.poll_responses.pop(0)
            if canned.delay:
                await asyncio.sleep(canned.delay)
            return canned.response()
        return None

    def advance(self, task: FakeTask) -> tuple[str, int]:
        """One poll's view of the task: ("running", percent) | ("success", 100) |
        ("failed", percent)."""
        task.polls += 1
        if self.script.never_finish or task.polls <= self.script.polls_to_finish:
            done = min(task.polls, self.script.polls_to_finish)
            return "running", int(90 * done / max(1, self.script.polls_to_finish + 1))
        if self.script.outcome == "failed":
            return "failed", 0
        return "success", 100

    async def _serve_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        task = self.tasks.get(name.removesuffix(".mp4"))
        return await self.serve_result(task, fresh=request.query_params.get("fresh") == "1")

    async def serve_result(self, task: FakeTask | None, *, fresh: bool = False) -> Response:
        self.download_calls += 1
        if task is None:
            return Response(b"no such file", status_code=404)
        if self.script.download_responses and not fresh:
            return self.script.download_responses.pop(0).response()
        path = await asyncio.to_thread(sample_mp4, task.width, task.height, task.seconds)
        return FileResponse(Path(path), media_type="video/mp4")


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def size_for(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    short = 1080 if resolution in ("1080p", "pro", "high") else 720
    long = short * 16 // 9
    return {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}[aspect_ratio]
