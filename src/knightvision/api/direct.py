"""The partner routes' fast lane (ADR 0003): served without FastAPI's per-request machinery.

Our route handlers take the ``Request`` and build their own responses and errors, so for a request
that fully matches one of them the application calls it directly, gives the request its id and
refuses an oversized body as our middleware would, and renders errors itself. Everything else
(the OpenAPI document, /healthz, unknown paths, wrong methods) goes through FastAPI as usual; the
same routes stay registered there, so the OpenAPI document describes exactly what the fast lane
serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from knightvision.api.errors import error_response, unexpected_error_response
from knightvision.api.middleware import begin_request, capped, declared_too_large, with_request_id
from knightvision.api.responses import JSONBytesResponse
from knightvision.errors import BodyTooLargeError, KVError


class PartnerApp(FastAPI):
    """A FastAPI application whose ``DirectRoute``s are dispatched straight to their handlers."""

    _direct_routes: tuple[tuple[str, str, APIRoute], ...] = ()

    def serve_directly(
        self, routes: Sequence[APIRoute], max_body_bytes: int, body_timeout_seconds: float
    ) -> None:
        # (method, literal path prefix, route): two string checks rule a route out before its
        # regular expression runs.
        self._direct_routes = tuple(
            (method, route.path_format.partition("{")[0], route)
            for route in routes
            for method in route.methods or ()
        )
        self._max_body_bytes = max_body_bytes
        self._body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], _route_path(scope)
            for route_method, prefix, route in self._direct_routes:
                if route_method != method or not path.startswith(prefix):
                    continue
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await self._serve(route, scope, receive, send)
                    return
        await super().__call__(scope, receive, send)

    async def _serve(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        """What ``RequestContextMiddleware`` and FastAPI's handlers do, in one frame."""
        request_id = begin_request(scope)
        request = Request(scope, capped(receive, self._max_body_bytes, self._body_timeout_seconds))
        try:
            if declared_too_large(scope, self._max_body_bytes):
                raise BodyTooLargeError()
            response = await route.endpoint(request, **scope["path_params"])
        except KVError as exc:
            response = error_response(request, exc)
        except Exception as exc:  # an unreachable dependency is a 503, anything else a 500
            response = unexpected_error_response(request, exc)
        if not isinstance(
            response, JSONBytesResponse
        ):  # files: Starlette may answer 206/416 itself
            send = with_request_id(send, request_id)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the routes see: behind a proxy's ``root_path``, as Starlette's routing strips it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
