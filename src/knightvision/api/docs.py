"""The API reference UI at ``/docs``, served whole from this install (Swagger UI's files ship in the
``swagger-ui-bundle-v2`` package), so it works on a machine with no internet; and what the OpenAPI
document needs beyond FastAPI's: the bearer security scheme, so the UI can send a partner key, the
path ids' patterns, and no validation 422 (our handlers parse their own input and never send it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from knightvision.kit.ids import ANALYSIS_JOB_ID, VIDEO_JOB_ID

ASSETS = "/docs/assets"
PARTNER_PREFIX = "/api/v1/partner/"
BEARER = "partnerKey"
_CHARACTER_ID = r"[0-9]{1,18}"
# The ids in partner paths, by path: what a well-formed one looks like (others answer 400 or 404).
PATH_ID_PATTERNS = {
    f"{PARTNER_PREFIX}status/{{job_id}}": ANALYSIS_JOB_ID.pattern,
    f"{PARTNER_PREFIX}video-status/{{job_id}}": VIDEO_JOB_ID.pattern,
    f"{PARTNER_PREFIX}characters/{{character_id}}": _CHARACTER_ID,
    f"{PARTNER_PREFIX}characters/{{character_id}}/finalize": _CHARACTER_ID,
}


def install_docs(app: FastAPI) -> None:
    """``/docs`` and its assets; the OpenAPI document marks every partner operation as needing
    the key. The app must be built with ``docs_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    plain_openapi = app.openapi

    def openapi_with_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete_document(plain_openapi())
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


def complete_document(spec: dict[str, Any]) -> None:
    """Partner operations take ``Authorization: Bearer kv_partner_…`` (public files do not); path
    ids get their patterns; FastAPI's own 422 is dropped wherever we did not declare a 422."""
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A partner API key, kv_partner_…",
    }
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if path.startswith(PARTNER_PREFIX):
                operation["security"] = [{BEARER: []}]
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and path in PATH_ID_PATTERNS:
                    parameter["schema"] = {
                        "type": "string",
                        "pattern": f"^{PATH_ID_PATTERNS[path]}$",
                    }
            validation = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(validation):
                del operation["responses"]["422"]
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
