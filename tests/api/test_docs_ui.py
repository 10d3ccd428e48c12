"""/docs works offline: its page and every file it loads come from this server, and the OpenAPI
document declares the partner key so the UI can send it."""

from __future__ import annotations

import re

from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error

ASSET = re.compile(r"""(?:src|href)=['"]([^'"]+)['"]""")


async def test_the_docs_page_loads_nothing_from_another_host(harness):
    page = await harness.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = ASSET.findall(page.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    assert "//" not in " ".join(assets), assets  # no CDN, no absolute URL
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    for asset in assets:
        served = await harness.client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 500, asset
    script = await harness.client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert b"SwaggerUIBundle" in script.content


async def test_a_missing_asset_is_our_json_404(harness):
    assert_error(await harness.client.get("/docs/assets/nope.js"), 404, "Not found", "not_found")


async def test_every_partner_operation_declares_the_bearer_key(harness):
    spec = (await harness.client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["partnerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A partner API key, kv_partner_…",
    }
    partner_ops = [
        operation
        for path, operations in spec["paths"].items()
        if path.startswith(f"{API}/")
        for operation in operations.values()
    ]
    assert len(partner_ops) >= 12
    assert all(operation["security"] == [{"partnerKey": []}] for operation in partner_ops)
