"""Behind a proxy (README "Behind a proxy"): the throttles see each client behind a trusted proxy
as its own address, and every client behind an untrusted one as the proxy's, which is reported
once per proxy."""

from __future__ import annotations

import logging

import httpx

from tests.fixtures.harness import API

PROXY = "10.0.0.5"
UNKNOWN = {"Authorization": "Bearer kv_partner_" + "A" * 43}
REPORT = "not in KNIGHTVISION_TRUSTED_PROXIES"


def through(client: httpx.AsyncClient, forwarded_for: str):
    async def get(path: str, **headers: str) -> httpx.Response:
        return await client.get(path, headers={"X-Forwarded-For": forwarded_for, **headers})

    return get


async def test_clients_behind_a_trusted_proxy_are_throttled_one_by_one(make_harness, caplog):
    caplog.set_level(logging.INFO, "knightvision")
    api = await make_harness(
        trusted_proxies=["10.0.0.0/24"], auth_failures_per_minute=2, throttle_delay_seconds=0
    )
    proxy = api.client_from(PROXY)
    guesser, partner = through(proxy, "198.51.100.7"), through(proxy, "198.51.100.8")
    assert [(await guesser(f"{API}/credits", **UNKNOWN)).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]
    assert (await partner(f"{API}/credits", **UNKNOWN)).status_code == 401  # its own budget
    # A client cannot pass for another by sending its own X-Forwarded-For: the proxy appends the
    # address it saw, and the nearest untrusted hop is the one believed.
    spoofed = through(proxy, "198.51.100.8, 198.51.100.7")
    assert (await spoofed(f"{API}/credits", **UNKNOWN)).status_code == 429
    # Repeated X-Forwarded-For lines count as one list (RFC 9110 §5.3).
    repeated = await proxy.get(
        f"{API}/credits",
        headers=httpx.Headers(
            [
                ("X-Forwarded-For", "198.51.100.8"),
                ("X-Forwarded-For", "198.51.100.7"),
                *UNKNOWN.items(),
            ]
        ),
    )
    assert repeated.status_code == 429
    assert REPORT not in caplog.text
    access = [r for r in caplog.records if r.name == "knightvision.access"]
    assert access and access[0].client == "198.51.100.7"


async def test_an_untrusted_proxy_is_one_client_and_is_reported_once(make_harness, caplog):
    caplog.set_level(logging.WARNING, "knightvision")
    api = await make_harness(auth_failures_per_minute=2, throttle_delay_seconds=0)
    proxy = api.client_from(PROXY)
    guesser, partner = through(proxy, "198.51.100.7"), through(proxy, "198.51.100.8")
    for _ in range(2):
        assert (await guesser(f"{API}/credits", **UNKNOWN)).status_code == 401
    # The proxy's forwarding is ignored: another client behind it shares the guesser's budget ...
    assert (await partner(f"{API}/credits", **UNKNOWN)).status_code == 429
    # ... but a valid key is still served to it.
    account = await api.partner(credits=1)
    assert (await partner(f"{API}/credits", **account["headers"])).status_code == 200
    reports = [r for r in caplog.records if REPORT in r.getMessage()]
    assert len(reports) == 1, [r.getMessage() for r in reports]
    assert reports[0].levelno == logging.WARNING
    assert f"requests from {PROXY} carry x-forwarded-for" in reports[0].getMessage()

    caplog.clear()
    other = api.client_from("10.0.0.9")
    for header in ("Forwarded", "X-Real-IP"):
        await other.get("/healthz", headers={header: "for=198.51.100.9"})
    reports = [r.getMessage() for r in caplog.records if REPORT in r.getMessage()]
    assert len(reports) == 1 and "10.0.0.9 carry forwarded" in reports[0], reports


async def test_a_direct_client_is_not_reported(make_harness, caplog):
    caplog.set_level(logging.WARNING, "knightvision")
    api = await make_harness()
    for _ in range(3):
        await api.client.get("/healthz")
    assert REPORT not in caplog.text
