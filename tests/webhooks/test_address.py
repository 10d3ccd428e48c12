"""SSRF: every class of address a webhook may not reach is refused, literal or behind a DNS name,
at registration and again at delivery; the operator's allow_private lets them (and http) through."""

from __future__ import annotations

import asyncio

import pytest

from knightvision.errors import BadRequestError
from knightvision.webhooks.address import UnsafeWebhookUrl, resolve_target
from tests.webhooks.conftest import (
    MakeContainer,
    deliveries,
    delivering,
    end_analysis,
    new_partner,
    register,
)
from tests.webhooks.receiver import receiver

REFUSED = {
    "https://127.0.0.1/": "loopback",
    "https://127.9.9.9:8443/x": "loopback",
    "https://[::1]/": "loopback",
    "https://10.1.2.3/": "private",
    "https://172.16.0.1/": "private",
    "https://192.168.1.1/": "private",
    "https://169.254.169.254/latest/meta-data": "link-local",
    "https://[fe80::1]/": "link-local",
    "https://[fd12:3456::1]/": "unique-local",
    "https://224.0.0.1/": "multicast",
    "https://[ff02::1]/": "multicast",
    "https://0.0.0.0/": "unspecified",
    "https://[::]/": "unspecified",
    "https://[::ffff:127.0.0.1]/": "loopback",  # IPv4-mapped
    "https://[::ffff:10.0.0.1]/": "private",
    "https://100.64.0.1/": "reserved",  # carrier-grade NAT: not private, not public
    "https://240.0.0.1/": "reserved",
    "https://localhost/": "loopback",  # a DNS name that resolves to loopback
    "https://LocalHost:8443/hook": "loopback",  # names are case-insensitive
}


@pytest.mark.parametrize(("url", "refused_class"), sorted(REFUSED.items()))
async def test_each_address_class_is_refused(url: str, refused_class: str) -> None:
    with pytest.raises(UnsafeWebhookUrl, match=f"resolves to a {refused_class} address"):
        await resolve_target(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/", "must use https"),
        ("ftp://93.184.215.14/", "must use https"),
        ("https://user:pw@93.184.215.14/", "credentials"),
        ("not a url", "must use https"),
        ("https://" + "a" * 2100 + ".com/", "at most 2048"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ],
)
async def test_malformed_or_unresolvable_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        await resolve_target(url, allow_private=False)


async def test_a_public_address_is_used_as_resolved() -> None:
    target = await resolve_target("https://93.184.215.14:8443/hook?x=1", allow_private=False)
    assert target.address == "93.184.215.14"
    assert str(target.connect_url()) == "https://93.184.215.14:8443/hook?x=1"


async def test_allow_private_admits_loopback_and_http() -> None:
    target = await resolve_target("http://localhost:9/hook", allow_private=True)
    assert target.address in {"127.0.0.1", "::1"}
    assert target.host_header() == "localhost:9"
    assert str(target.connect_url()).startswith(
        f"http://{'[::1]' if ':' in target.address else '127.0.0.1'}:9/"
    )


async def test_registration_refuses_a_private_target(make_container: MakeContainer) -> None:
    container = await make_container(webhook_allow_private=False)
    partner = await new_partner(container)
    with pytest.raises(BadRequestError) as refused:
        await register(container, partner, "https://localhost/hook")
    assert refused.value.code == "invalid_webhook_url"
    assert refused.value.extra["param"] == "url"
    assert await container.webhooks.list(partner.account_id) == []


async def test_every_delivery_checks_the_address_again(make_container: MakeContainer) -> None:
    """Registered while private targets were allowed; refused at delivery once they are not,
    so nothing reaches the receiver (as when a name starts resolving to a private address)."""
    permissive = await make_container(webhook_retry_schedule=[0.1])
    partner = await new_partner(permissive)
    strict = await make_container(webhook_allow_private=False, webhook_retry_schedule=[0.1])
    with receiver() as hook:
        await register(permissive, partner, hook.url)
        async with delivering(strict):
            await end_analysis(strict, partner)
            for _ in range(200):
                rows = await deliveries(strict)
                if rows and rows[0].status != "pending":
                    break
                await asyncio.sleep(0.05)
        assert hook.arrivals == []
    [delivery] = rows
    assert delivery.status == "failed" and delivery.attempts == 2
    assert delivery.last_status_code is None
    assert "must use https" in delivery.last_error
