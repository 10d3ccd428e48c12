"""The API reference UI at ``/docs``, served whole from this install (Swagger UI's files ship in the
``swagger-ui-bundle-v2`` package), so it works on a machine with no internet; and the bearer
security scheme in the OpenAPI document, so the UI can send a partner key."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
PARTNER_PREFIX = "/api/v1/partner/"
BEARER = "partnerKey"


def install_docs(app: FastAPI) -> None:
    """``/docs`` and its assets; the OpenAPI document marks every partner operation as needing
    the key. The app must be built with ``docs_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    plain_openapi = app.openapi

    def openapi_with_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_bearer_security(plain_openapi())
        assert app.openapi_schema is not None  # FastAPI caches the document it builds
        return app.openapi_schema

    app.openapi = openapi_with_security  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} reference",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )


def add_bearer_security(spec: dict[str, Any]) -> None:
    """Partner operations take ``Authorization: Bearer kv_partner_…``; public files do not."""
    schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A partner API key, kv_partner_…",
    }
    for path, operations in spec.get("paths", {}).items():
        if path.startswith(PARTNER_PREFIX):
            for operation in operations.values():
                operation["security"] = [{BEARER: []}]
