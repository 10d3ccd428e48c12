"""The access log and the request metrics, around both lanes (the fast lane and FastAPI's).

Outermost, so every answer is seen once: its route template (never the raw path, so job ids do not
become metric labels), status and latency, the request id and the key's display prefix.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client.metrics import Counter, Histogram
from starlette.types import Message, Receive, Scope, Send

from knightvision.api.direct import PartnerApp
from knightvision.api.middleware import ClientGoneError
from knightvision.api.proxies import TrustedProxies, UntrustedProxyWarning
from knightvision.kit.ids import API_KEY_PREFIX, key_display_prefix
from knightvision.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("knightvision.access")

UNMATCHED_ROUTE = "unmatched"  # unknown paths share one label: a scanner cannot grow the metrics


class ObservedApp(PartnerApp):
    """``PartnerApp`` that logs and counts each HTTP answer, and reports forwarding headers from
    proxies it does not trust (``api/proxies.py``)."""

    access_log_enabled = True
    proxies = TrustedProxies(())
    untrusted_proxies: UntrustedProxyWarning | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        if self.untrusted_proxies is not None:
            self.untrusted_proxies(scope)
        status = [500]  # what the request counts as if it ends before an answer starts

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, observed_send)
        finally:
            self._observe(scope, status[0], time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
        method: str = scope["method"]
        key = (route, method, status)
        children = _CHILDREN.get(key) or _CHILDREN.setdefault(key, _children_for(key))
        children[0].inc()
        children[1].observe(seconds)
        if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):
            _log_access(scope, route, method, status, seconds, self.proxies)


# (route, method, status) -> its metric children: a dict lookup instead of ``labels()`` per request.
_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def _children_for(key: tuple[str, str, int]) -> tuple[Counter, Histogram]:
    route, method, status = key
    return HTTP_REQUESTS.labels(route, method, str(status)), HTTP_LATENCY.labels(route, method)


def _log_access(
    scope: Scope, route: str, method: str, status: int, seconds: float, proxies: TrustedProxies
) -> None:
    state: dict[str, Any] = scope.get("state") or {}
    # Behind a trusted proxy, the address the throttles see (X-Forwarded-For), not the proxy's.
    address = proxies.client_address(scope)
    fields = {
        "request_id": state.get("request_id", "-"),
        "method": method,
        "route": route,
        "status": status,
        "latency_ms": round(seconds * 1000, 2),
        "key_prefix": _key_prefix(scope),
        "client": address,
    }
    message = "%s %s %d %.1fms key=%s client=%s"
    args = (method, route, status, fields["latency_ms"], fields["key_prefix"] or "-", address)
    if status == ClientGoneError.status:
        message += " (client disconnected before sending the whole request)"
    # A record made directly: Logger.info would also walk the stack for the caller's line, a
    # third of the line's cost on the hot path, to say what is always this function.
    record = logging.LogRecord(access_log.name, logging.INFO, "", 0, message, args, None)
    record.__dict__.update(fields)
    access_log.handle(record)


def _key_prefix(scope: Scope) -> str | None:
    """The display prefix of the key the request presented (not a secret: operators name keys by
    it), whether or not the key turned out valid."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1").partition(" ")[2].strip()
            return key_display_prefix(token) if token.startswith(API_KEY_PREFIX) else None
    return None
