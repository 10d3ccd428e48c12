"""The webhook endpoint routes over HTTP: the secret shown once (create, rotate), lists without
it, another account's endpoint as unknown as a made-up one, and the 400s that say what to fix."""

from __future__ import annotations

from knightvision.api.webhook_schemas import (
    WebhookDeleted,
    WebhookEndpointsRead,
    WebhookEndpointWithSecret,
)
from knightvision.webhooks.events import EVENT_TYPES
from tests.fixtures.harness import API
from tests.fixtures.partner_api import assert_error

PUBLIC_URL = "https://93.184.215.14/hooks"


async def test_create_list_rotate_delete(api):
    partner, other = await api.partner(), await api.partner()
    created = await api.client.post(
        f"{API}/webhooks",
        headers=partner["headers"],
        json={"url": PUBLIC_URL, "events": ["video.completed"], "description": "renders"},
    )
    assert created.status_code == 200, created.text
    endpoint = WebhookEndpointWithSecret.model_validate(created.json())
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["video.completed"] and endpoint.enabled

    listed = await api.client.get(f"{API}/webhooks", headers=partner["headers"])
    [shown] = WebhookEndpointsRead.model_validate(listed.json()).webhooks
    assert shown.id == endpoint.id and "secret" not in listed.text
    assert (await api.client.get(f"{API}/webhooks", headers=other["headers"])).json()[
        "webhooks"
    ] == []

    rotated = await api.client.post(
        f"{API}/webhooks/{endpoint.id}/rotate", headers=partner["headers"]
    )
    assert WebhookEndpointWithSecret.model_validate(rotated.json()).secret != endpoint.secret

    for who in (other, partner):  # another account's endpoint is not found, then it is gone
        refused = await api.client.delete(f"{API}/webhooks/{endpoint.id}", headers=who["headers"])
        if who is other:
            assert_error(refused, 404, "Not found", "not_found")
    gone = await api.client.delete(f"{API}/webhooks/{endpoint.id}", headers=partner["headers"])
    assert_error(gone, 404, "Not found", "not_found")
    assert (await api.client.get(f"{API}/webhooks", headers=partner["headers"])).json()[
        "webhooks"
    ] == []


async def test_delete_answers_what_it_deleted(api):
    partner = await api.partner()
    created = await api.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": PUBLIC_URL}
    )
    assert created.json()["events"] == list(EVENT_TYPES)  # none named: all of them
    deleted = await api.client.delete(
        f"{API}/webhooks/{created.json()['id']}", headers=partner["headers"]
    )
    assert WebhookDeleted.model_validate(deleted.json()).id == created.json()["id"]


async def test_refusals_name_the_field(api):
    partner = await api.partner()
    cases = [
        (
            {"url": "https://127.0.0.1/hook"},
            "url resolves to a loopback address (127.0.0.1)",
            "invalid_webhook_url",
            "url",
        ),
        (
            {"url": "http://93.184.215.14/hook"},
            "url must use https",
            "invalid_webhook_url",
            "url",
        ),
        (
            {},
            "url must be an http(s) URL of at most 2048 characters",
            "invalid_webhook_url",
            "url",
        ),
        (
            {"url": PUBLIC_URL, "events": ["video.done"]},
            "Invalid events",
            "invalid_events",
            "events",
        ),
        ({"url": PUBLIC_URL, "events": []}, "Invalid events", "invalid_events", "events"),
        (
            {"url": PUBLIC_URL, "description": "x" * 201},
            "Invalid description",
            "invalid_description",
            "description",
        ),
    ]
    for body, error, code, param in cases:
        response = await api.client.post(f"{API}/webhooks", headers=partner["headers"], json=body)
        assert assert_error(response, 400, error, code)["param"] == param
    events = await api.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": PUBLIC_URL, "events": ["x"]}
    )
    assert events.json()["allowed"] == list(EVENT_TYPES)
    assert (await api.client.get(f"{API}/webhooks", headers=partner["headers"])).json()[
        "webhooks"
    ] == []


async def test_private_targets_when_the_operator_allows_them(make_harness):
    harness = await make_harness(webhook_allow_private=True)
    partner = await harness.partner()
    response = await harness.client.post(
        f"{API}/webhooks", headers=partner["headers"], json={"url": "http://localhost:8080/h"}
    )
    assert response.status_code == 200, response.text
