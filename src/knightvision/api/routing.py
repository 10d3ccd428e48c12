"""Routes whose handlers take the ``Request`` and return a ``Response`` themselves.

Our handlers parse their own bodies (to answer with the contract's exact errors) and build their
own JSON, so FastAPI's per-request dependency solving and response validation would only add cost
on the hottest paths (ADR 0003). ``DirectRoute`` keeps everything FastAPI knows about a route for
the OpenAPI document, and calls the handler directly.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            response: Response = await endpoint(request, **request.path_params)
            return response

        return handle
