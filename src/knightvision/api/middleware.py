"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knightvision.errors import BodyTooLargeError, KVError
from knightvision.kit.ids import new_request_id
from knightvision.kit.logs import current_request_id

REQUEST_ID_HEADER = b"request-id"


class RequestContextMiddleware:
    """Gives every request its id (body and ``Request-Id`` header); refuses big bodies early."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = begin_request(scope)
        send = with_request_id(send, request_id)
        if declared_too_large(scope, self.max_body_bytes):
            await _send_error(send, request_id, BodyTooLargeError())
            return
        await self.app(scope, capped(receive, self.max_body_bytes), send)


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


def capped(receive: Receive, limit: int) -> Receive:
    """Chunked bodies have no declared length: count them as they arrive. A disconnect before the
    body's end is ``ClientGoneError``."""
    seen = 0
    whole = False

    async def capped_receive() -> Message:
        nonlocal seen, whole
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError()
            whole = not message.get("more_body", False)
        elif message["type"] == "http.disconnect" and not whole:
            raise ClientGoneError()
        return message

    return capped_receive


async def _send_error(send: Send, request_id: str, error: BodyTooLargeError) -> None:
    body = orjson.dumps({"request_id": request_id, **error.body()})
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
