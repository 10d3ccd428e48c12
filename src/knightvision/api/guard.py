"""Authenticate (D3), then rate limit (D5): the first two steps of every partner request (D4)."""

from __future__ import annotations

from starlette.requests import Request

from knightvision.account.repository import KeyPrincipal, find_principal
from knightvision.api.proxies import TrustedProxies
from knightvision.api.throttle import AddressThrottle
from knightvision.container import Container
from knightvision.errors import (
    InvalidApiKeyError,
    KeyDeactivatedError,
    MissingAuthError,
    RateLimitedError,
)
from knightvision.kit.ids import API_KEY_PREFIX
from knightvision.pricing import RateLimitBucket


def _authorization(request: Request) -> str:
    """The Authorization header, read straight off the ASGI scope (hot path: no Headers object)."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return ""


class Guard:
    """A live key is judged by its own per-endpoint limit only, one limiter call, whatever its
    address has done; a deactivated key is always its 403. Missing and invalid credentials are
    counted per client address and, past that throttle, answered 429 after a delay (ADR 0007)."""

    def __init__(self, container: Container, proxies: TrustedProxies) -> None:
        self.container = container
        self.proxies = proxies
        self.limits = container.settings.rate_limit_table
        settings = container.settings
        self.failures = AddressThrottle(
            container.limiter,
            RateLimitBucket.AUTH_FAILURES,
            settings.auth_failures_per_minute,
            settings.throttle_delay_seconds,
            "failed authentications",
        )

    async def __call__(self, request: Request, endpoint: RateLimitBucket) -> KeyPrincipal:
        self.container.reads.begin_request()
        try:
            principal = await self._principal(request)
        except (MissingAuthError, InvalidApiKeyError):
            await self.failures.failed(self.proxies.client_address(request.scope))
            raise
        per_minute = principal.rate_limits.get(endpoint, self.limits[endpoint])
        decision = await self.container.limiter.hit(endpoint, str(principal.key_id), per_minute)
        request.scope["state"]["rate_headers"] = decision.raw_headers()
        if not decision.allowed:
            raise RateLimitedError(retry_after=decision.retry_after)
        return principal

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
            # A real key the operator switched off, not a guess: its 403 every time, uncounted.
            raise KeyDeactivatedError()
        return principal
