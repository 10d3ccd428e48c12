"""Slow and greedy clients against a real `knightvision serve` on loopback (ADR 0007): the header
read timeout closes connections that never finish a request head (slow-loris) while others are
served, a stalled body is answered 408 in our JSON shape, connections past the cap get a JSON 503,
a request that takes longer than the header timeout is not cut, and forwarding headers from a
peer that is not a trusted proxy are reported once. On each database."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from knightvision.db.migrate import upgrade
from knightvision.settings import Settings
from tests.fixtures.processes import Deployment

API = "/api/v1/partner"
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
# The sweep runs every quarter of the timeout; allow it and a loaded machine some slack.
CLOSE_SLACK = 1.5


@pytest.fixture
def deploy(backend_url: str, tmp_path: Path):
    """``deploy(**env)``: a Deployment on this test's database with the timeouts of this module."""
    upgrade(Settings(database_url=backend_url).async_database_url)

    def make(**env: str) -> Deployment:
        timeouts = {
            "KNIGHTVISION_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "KNIGHTVISION_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        }
        return Deployment(tmp_path / "data", backend_url, **{**timeouts, **env})

    return make


@contextmanager
def connections(deployment: Deployment, count: int) -> Iterator[list[socket.socket]]:
    opened = [socket.create_connection(("127.0.0.1", deployment.port)) for _ in range(count)]
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes the connection within ``within`` seconds (nothing is sent
    before: these connections never finished a request)."""
    sock.settimeout(within)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body, read off a raw socket."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (ln.split(":", 1) for ln in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(4096)
    return int(status_line.split()[1]), headers, body


def test_slow_heads_are_closed_while_others_are_served(deploy) -> None:
    deployment = deploy()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    with deployment.server("--no-workers"), connections(deployment, 30) as slow:
        opened = time.monotonic()
        for n, sock in enumerate(slow):
            if n % 3 == 1:
                sock.sendall(head)  # a head never finished
        for sent in range(1, 4):
            for sock in slow[2::3]:
                sock.sendall(head[sent - 1 : sent])  # a head trickled a byte at a time
            # Served on another connection meanwhile, by a client that sends its head at once.
            assert httpx.get(f"{deployment.base}/healthz", timeout=5).status_code == 200
            time.sleep(0.15)
        assert time.monotonic() - opened < HEADER_TIMEOUT
        assert not closed_by_server(slow[0], within=0.05)  # not before the timeout
        for sock in slow:
            assert closed_by_server(sock, within=HEADER_TIMEOUT + CLOSE_SLACK)
        took = time.monotonic() - opened
        assert HEADER_TIMEOUT <= took <= HEADER_TIMEOUT + CLOSE_SLACK, took

        # A kept-alive connection that starts its next head and stops is closed the same way.
        with connections(deployment, 1) as (kept,):
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(kept)[0] == 200
            kept.sendall(b"GET /healthz HTTP/1.1\r\n")
            assert closed_by_server(kept, within=HEADER_TIMEOUT + CLOSE_SLACK)
        assert httpx.get(f"{deployment.base}/healthz", timeout=5).status_code == 200


def test_a_request_longer_than_the_header_timeout_is_answered(deploy) -> None:
    """The head timer stops once a head is in: a failed authentication held by a tarpit longer
    than the header timeout still gets its 429."""
    deployment = deploy(
        KNIGHTVISION_AUTH_FAILURES_PER_MINUTE="1",
        KNIGHTVISION_THROTTLE_DELAY_SECONDS=str(HEADER_TIMEOUT * 2),
    )
    with deployment.server("--no-workers"):
        with httpx.Client(base_url=deployment.base, timeout=10) as client:
            assert client.get(f"{API}/credits").status_code == 401
            started = time.monotonic()
            throttled = client.get(f"{API}/credits")
        assert throttled.status_code == 429, throttled.text
        assert time.monotonic() - started >= HEADER_TIMEOUT * 2


def test_a_stalled_body_is_a_json_408_and_the_connection_closes(deploy) -> None:
    deployment = deploy()
    key = deployment.cli("accounts", "create", "acme", "--credits", "10")["api_key"]
    with deployment.server("--no-workers"), connections(deployment, 1) as (sock,):
        body = json.dumps({"prompt": "x", "model": "local-storyboard", "duration": 1}).encode()
        sock.sendall(
            b"POST /api/v1/partner/generate-video HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10]
        )
        started = time.monotonic()
        status, headers, answer = read_response(sock)
        took = time.monotonic() - started
        assert status == 408, answer
        assert BODY_TIMEOUT * 0.9 <= took <= BODY_TIMEOUT + CLOSE_SLACK, took
        error = json.loads(answer)
        assert (error["error"], error["code"]) == (
            "Request body not received in time",
            "body_timeout",
        )
        assert headers["request-id"] == error["request_id"]
        assert headers["connection"] == "close"
        assert closed_by_server(sock, within=2)
    assert "POST /api/v1/partner/generate-video 408" in deployment.log("serve")
    assert deployment.cli("credits", "show", "--account", "acme")["credits"] == 10


def test_connections_past_the_cap_get_a_json_503(deploy) -> None:
    deployment = deploy(KNIGHTVISION_MAX_CONNECTIONS="3", KNIGHTVISION_HEADER_TIMEOUT_SECONDS="30")
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with deployment.server("--no-workers"):
        with connections(deployment, 2) as idle, connections(deployment, 1) as (third,):
            time.sleep(0.2)  # the server has accepted them
            third.sendall(request)
            assert read_response(third)[0] == 200  # the third of three
            with connections(deployment, 1) as (fourth,):
                fourth.sendall(request)
                status, headers, answer = read_response(fourth)
                assert status == 503, answer
                error = json.loads(answer)
                assert (error["error"], error["code"]) == ("Server busy", "server_busy")
                assert headers["retry-after"] == "2"
                assert headers["request-id"] == error["request_id"]
                assert closed_by_server(fourth, within=2)
            assert len(idle) == 2
        time.sleep(0.2)
        assert httpx.get(f"{deployment.base}/healthz", timeout=5).status_code == 200
        metrics = httpx.get(f"{deployment.base}/metrics", timeout=5).text
        assert 'knightvision_connection_limits_total{limit="max_connections"} 1.0' in metrics
    log = deployment.log("serve")
    assert "connection cap reached" in log and "KNIGHTVISION_MAX_CONNECTIONS=3" in log


def test_forwarding_headers_from_an_untrusted_peer_are_reported_once(deploy) -> None:
    deployment = deploy()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    with deployment.server("--no-workers"):
        for _ in range(3):
            httpx.get(f"{deployment.base}{API}/credits", headers=forwarded, timeout=5)
    log = deployment.log("serve")
    warnings = [line for line in log.splitlines() if "not in KNIGHTVISION_TRUSTED_PROXIES" in line]
    assert len(warnings) == 1, warnings
    assert (
        "WARNING" in warnings[0] and "requests from 127.0.0.1 carry x-forwarded-for" in warnings[0]
    )
    # uvicorn's own forwarding support is off: the address is the peer's, not the header's.
    assert "client=127.0.0.1" in log and "client=203.0.113.9" not in log


def test_a_trusted_proxy_forwards_the_client_address(deploy) -> None:
    deployment = deploy(KNIGHTVISION_TRUSTED_PROXIES="127.0.0.1")
    with deployment.server("--no-workers"):
        httpx.get(
            f"{deployment.base}{API}/credits", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5
        )
    log = deployment.log("serve")
    assert "not in KNIGHTVISION_TRUSTED_PROXIES" not in log
    assert "client=203.0.113.9" in log
