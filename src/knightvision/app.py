"""``create_app(settings)``: the ASGI application, its middleware, routes and lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from knightvision import __version__
from knightvision.api.access import ObservedApp
from knightvision.api.characters import characters_router
from knightvision.api.docs import install_docs
from knightvision.api.errors import install_error_handlers
from knightvision.api.estimate import estimate_router
from knightvision.api.events import events_router
from knightvision.api.guard import Guard
from knightvision.api.metrics import mount_metrics
from knightvision.api.middleware import RequestContextMiddleware
from knightvision.api.partner import partner_router
from knightvision.api.proxies import TrustedProxies, UntrustedProxyWarning
from knightvision.api.readiness import readiness
from knightvision.api.responses import json_response
from knightvision.api.static import static_router
from knightvision.api.webhooks import webhooks_router
from knightvision.container import Container
from knightvision.db.migrate import prepare_schema
from knightvision.errors import DependencyUnavailableError
from knightvision.providers.storage.probe import verify_storage
from knightvision.settings import Settings

log = logging.getLogger("knightvision")


def create_app(settings: Settings, *, run_workers: bool = True, fast_lane: bool = True) -> FastAPI:
    """The whole server. With ``run_workers`` and ``settings.workers > 0`` jobs run in-process
    (D19). ``fast_lane=False`` sends every request through FastAPI, so tests can hold the fast
    lane (``api/direct.py``) to it."""
    container = Container.build(settings)
    verify_storage(container.storage)  # an API that cannot read its storage answers 404s
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

    app = ObservedApp(
        title="Knightvision Partner API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served from the installed package (api/docs.py)
        redoc_url=None,
    )
    app.state.container = container
    proxies = TrustedProxies(settings.trusted_proxies)
    app.access_log_enabled = settings.access_log
    app.proxies = proxies
    app.untrusted_proxies = UntrustedProxyWarning(proxies)
    app.state.stop_work = stop.set
    app.state.work_stopped = lambda: None  # ``serve`` exits here after a signal (kit/stopping)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
    )
    install_error_handlers(app)
    install_docs(app)
    guard = Guard(container, proxies)
    routers = (
        partner_router(container, guard),
        characters_router(container, guard),
        estimate_router(container, guard),
        webhooks_router(container, guard),
        events_router(container, guard),
        static_router(container, proxies),
    )
    for router in routers:
        app.include_router(router)
    if fast_lane:
        app.serve_directly(
            [route for router in routers for route in router.routes if isinstance(route, APIRoute)],
            settings.max_body_bytes,
            settings.body_timeout_seconds,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> Response:
        """Liveness: the process serves. Dependencies are /readyz's business."""
        return json_response(request, {"status": "ok", "version": __version__})

    if settings.metrics:
        mount_metrics(app, container.engine, settings.metrics_token)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        """Readiness: 200 when every dependency answers, else 503 naming the ones that do not."""
        checks = await readiness(container)
        if all(state == "ok" for state in checks.values()):
            return json_response(request, {"status": "ready", "checks": checks})
        error = DependencyUnavailableError()
        return json_response(
            request, {**error.body(), "status": "unavailable", "checks": checks}, 503, error.headers
        )

    return app
