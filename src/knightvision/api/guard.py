"""Authenticate (D3), then rate limit (D5): the first two steps of every partner request (D4)."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from knightvision.account.repository import KeyPrincipal, find_principal
from knightvision.container import Container
from knightvision.errors import (
    InvalidApiKeyError,
    KeyDeactivatedError,
    KVError,
    MissingAuthError,
    RateLimitedError,
)
from knightvision.kit.ids import API_KEY_PREFIX
from knightvision.pricing import RateLimitBucket


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The socket peer, or the first untrusted hop of X-Forwarded-For behind a trusted proxy."""
    client = request.scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [
        hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def _authorization(request: Request) -> str:
    """The Authorization header, read straight off the ASGI scope (hot path: no Headers object)."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return ""


class Guard:
    """One limiter call per request: a key found is counted against its limit and the address's
    failed-auth throttle in one step (one Redis round trip when shared, ADR 0004)."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.limits = container.settings.rate_limit_table

    async def __call__(self, request: Request, endpoint: RateLimitBucket) -> KeyPrincipal:
        self.container.reads.begin_request()
        address = client_address(request, self.container.settings.trusted_proxies)
        principal = await self._authenticated(address, request)
        per_minute = principal.rate_limits.get(endpoint, self.limits[endpoint])
        decision, throttled = await self.container.limiter.hit_unless_throttled(
            self._throttle(address), endpoint, str(principal.key_id), per_minute
        )
        # A throttled address gets no verdict on its credentials, right or wrong: otherwise a
        # 429 would just mean "wrong guess" and the throttle would not slow guessing at all.
        if not throttled:
            request.scope["state"]["rate_headers"] = decision.raw_headers()
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)
        return principal

    def _throttle(self, address: str) -> tuple[RateLimitBucket, str, int]:
        return (
            RateLimitBucket.AUTH_FAILURES,
            address,
            self.container.settings.auth_failures_per_minute,
        )

    async def _authenticated(self, address: str, request: Request) -> KeyPrincipal:
        try:
            return await self._principal(request)
        except KVError:
            await self._count_failure(address)
            raise

    async def _principal(self, request: Request) -> KeyPrincipal:
        scheme, _, token = _authorization(request).partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise MissingAuthError()
        if not token.startswith(API_KEY_PREFIX):
            raise InvalidApiKeyError()
        principal = await find_principal(self.container.reads, token)
        if principal is None:
            raise InvalidApiKeyError()
        if not principal.active:
            raise KeyDeactivatedError()
        return principal

    async def _count_failure(self, address: str) -> None:
        """Failed authentications are throttled per client address, so keys cannot be guessed.
        A full window refuses this one too (429, no verdict on the credentials)."""
        decision = await self.container.limiter.hit(*self._throttle(address))
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)
