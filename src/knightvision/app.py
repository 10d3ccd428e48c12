"""``create_app(settings)``: the ASGI application, its middleware, routes and lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from knightvision import __version__
from knightvision.api.characters import characters_router
from knightvision.api.direct import PartnerApp
from knightvision.api.errors import install_error_handlers
from knightvision.api.guard import Guard
from knightvision.api.middleware import RequestContextMiddleware
from knightvision.api.partner import partner_router
from knightvision.api.responses import json_response
from knightvision.api.static import static_router
from knightvision.container import Container
from knightvision.db.migrate import prepare_schema
from knightvision.settings import Settings

log = logging.getLogger("knightvision")


def create_app(settings: Settings, *, run_workers: bool = True, fast_lane: bool = True) -> FastAPI:
    """The whole server. With ``run_workers`` and ``settings.workers > 0`` jobs run in-process
    (D19). ``fast_lane=False`` sends every request through FastAPI, so tests can hold the fast
    lane (``api/direct.py``) to it."""
    container = Container.build(settings)
    stop = asyncio.Event()  # set on shutdown, or at once on a signal (``app.state.stop_work``)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(prepare_schema, settings.async_database_url)
        stop.clear()
        worker_task = None
        if run_workers and settings.workers > 0:
            container.runner = container.worker(settings.workers)
            worker_task = asyncio.create_task(container.runner.run(stop), name="in-process-worker")
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await container.close()
            app.state.work_stopped()

    app = PartnerApp(
        title="Knightvision Partner API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = container
    app.state.stop_work = stop.set
    app.state.work_stopped = lambda: None  # ``serve`` exits here after a signal (kit/stopping)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    guard = Guard(container)
    routers = (
        partner_router(container, guard),
        characters_router(container, guard),
        static_router(container),
    )
    for router in routers:
        app.include_router(router)
    if fast_lane:
        app.serve_directly(
            [route for router in routers for route in router.routes if isinstance(route, APIRoute)],
            settings.max_body_bytes,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        async with container.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return json_response(request, {"status": "ok", "version": __version__})

    return app
