"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import asyncio

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knightvision.errors import BodyTimeoutError, BodyTooLargeError, KVError
from knightvision.kit.ids import new_request_id
from knightvision.kit.logs import current_request_id

REQUEST_ID_HEADER = b"request-id"


class RequestContextMiddleware:
    """Gives every request its id (body and ``Request-Id`` header); refuses big bodies early."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_seconds: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = begin_request(scope)
        send = with_request_id(send, request_id)
        if declared_too_large(scope, self.max_body_bytes):
            await send_error(send, request_id, BodyTooLargeError())
            return
        body = capped(receive, self.max_body_bytes, self.body_timeout_seconds)
        await self.app(scope, body, send)


def begin_request(scope: Scope) -> str:
    """A new request id, where handlers (``scope["state"]``) and log lines will find it."""
    request_id = new_request_id()
    scope.setdefault("state", {})["request_id"] = request_id
    current_request_id.set(request_id)
    return request_id


def with_request_id(send: Send, request_id: str) -> Send:
    """Adds the ``Request-Id`` header to a response that does not carry it yet."""
    header = (REQUEST_ID_HEADER, request_id.encode())

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if all(name != REQUEST_ID_HEADER for name, _ in headers):
                headers.append(header)
            message["headers"] = headers
        await send(message)

    return send_with_id


def declared_too_large(scope: Scope, limit: int) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value) > limit
            except ValueError:
                return False
    return False


class ClientGoneError(KVError):
    """The client hung up before sending its whole body: nobody is left to answer, and it is no
    fault of ours, so the access log notes it at INFO (status 499, as nginx logs it) instead of
    an unhandled error with a traceback that anyone could repeat to flood the logs."""

    status = 499
    code = "client_disconnected"
    message = "The client closed the connection before sending the whole request"


def capped(receive: Receive, limit: int, timeout_seconds: float) -> Receive:
    """The body within its bounds: at most ``limit`` bytes (chunked bodies have no declared
    length: counted as they arrive), and all of it within ``timeout_seconds`` of the first read,
    which follows the head at once (else ``BodyTimeoutError``, 408: a client trickling its body
    cannot hold a connection and a task for long). A disconnect before the body's end is
    ``ClientGoneError``."""
    seen = 0
    whole = False
    deadline: float | None = None

    async def capped_receive() -> Message:
        nonlocal seen, whole, deadline
        if whole:  # past the body, a read waits for the disconnect: no deadline for that
            return await receive()
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise BodyTimeoutError() from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError()
            whole = not message.get("more_body", False)
        elif message["type"] == "http.disconnect":
            raise ClientGoneError()
        return message

    return capped_receive


async def send_error(send: Send, request_id: str, error: KVError) -> None:
    """An error in the documented shape, sent straight to the server (outside any route)."""
    body = orjson.dumps({"request_id": request_id, **error.body()})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (REQUEST_ID_HEADER, request_id.encode()),
    ]
    for name, value in (error.headers or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
