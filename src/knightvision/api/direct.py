"""The partner routes' fast lane (ADR 0003): served without FastAPI's per-request machinery.

Our route handlers take the ``Request`` and build their own responses and errors, so for a request
that fully matches one of them the application calls it directly, inside our request-id
middleware, and renders errors itself. Everything else (the OpenAPI document, /healthz, unknown
paths, wrong methods) goes through FastAPI as usual; the same routes stay registered there, so the
OpenAPI document describes exactly what the fast lane serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from knightvision.api.errors import error_response, unexpected_error_response
from knightvision.api.middleware import RequestContextMiddleware
from knightvision.errors import KVError

_ROUTE = "knightvision.direct_route"


class PartnerApp(FastAPI):
    """A FastAPI application whose ``DirectRoute``s are dispatched straight to their handlers."""

    def serve_directly(self, routes: Sequence[APIRoute], max_body_bytes: int) -> None:
        self._direct_routes = tuple(routes)
        self._direct_lane = RequestContextMiddleware(_call_route, max_body_bytes=max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in getattr(self, "_direct_routes", ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    scope[_ROUTE] = route
                    await self._direct_lane(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


async def _call_route(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        response = await scope[_ROUTE].endpoint(request, **scope["path_params"])
    except KVError as exc:
        response = error_response(request, exc)
    except Exception:
        response = unexpected_error_response(request)
    await response(scope, receive, send)
