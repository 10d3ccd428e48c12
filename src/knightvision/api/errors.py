"""One place that renders every error in the documented shape (D6); never a stack trace."""

from __future__ import annotations

import logging

import redis.exceptions
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from knightvision.api.responses import json_response
from knightvision.db.outages import DATABASE_UNREACHABLE, brief
from knightvision.errors import (
    BodyTooLargeError,
    DependencyUnavailableError,
    KVError,
    MethodNotAllowedError,
    NotFoundError,
)

log = logging.getLogger("knightvision.api")

_BY_STATUS: dict[int, type[KVError]] = {
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: BodyTooLargeError,
}


def error_response(request: Request, exc: KVError) -> Response:
    return json_response(request, exc.body(), exc.status, exc.headers)


#: What an unreachable database or Redis raises: connection refused or lost, a timeout, a pool
#: with no connection to give. The partner gets 503 with Retry-After, never a 500 (ADR 0004).
DEPENDENCY_FAILURES: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    *DATABASE_UNREACHABLE,
)


def dependency_unavailable_response(request: Request, exc: BaseException) -> Response:
    """One line in the log, not a traceback per request while a dependency is down."""
    log.warning("dependency unavailable on %s %s: %s", request.method, request.url.path, brief(exc))
    return error_response(request, DependencyUnavailableError())


def unexpected_error_response(request: Request, exc: BaseException) -> Response:
    """Logged with its traceback; the partner sees the documented 500 and the request id only."""
    if isinstance(exc, DEPENDENCY_FAILURES):
        return dependency_unavailable_response(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_response(request, KVError().body(), 500)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (RFC 9110 ``Allow``): Starlette names only
    the first route that matched the path, and GET and POST /characters are two routes."""
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KVError)
    async def kv_error(request: Request, exc: KVError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        error = _BY_STATUS.get(exc.status_code, KVError)()
        headers = (
            {"Allow": allowed_methods(request)} if exc.headers and "Allow" in exc.headers else None
        )
        return json_response(
            request,
            error.body(),
            error.status if exc.status_code in _BY_STATUS else exc.status_code,
            headers,
        )

    for failure in DEPENDENCY_FAILURES:
        # Handled inside the middleware stack, so nothing is re-raised to the server's log.
        app.add_exception_handler(failure, _dependency_unavailable)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette sends this from outside our middleware; json_response carries the id header.
        return unexpected_error_response(request, exc)


async def _dependency_unavailable(request: Request, exc: Exception) -> Response:
    return dependency_unavailable_response(request, exc)
