"""Where a webhook may be sent (SSRF guard): the URL's host is resolved and every address it
resolves to must be public, unless the operator allows private targets. Checked at registration
and again at every delivery, which then connects to the very address that was checked, so a DNS
answer that changes between the check and the connection (rebinding) cannot redirect it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

MAX_URL_CHARS = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(ValueError):
    """The URL is malformed, does not resolve, or reaches an address webhooks may not."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: httpx.URL
    address: str

    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)

    def host_header(self) -> str:
        default = 443 if self.url.scheme == "https" else 80
        port = self.url.port
        host = self.url.host if ":" not in self.url.host else f"[{self.url.host}]"
        return host if port in (None, default) else f"{host}:{port}"


def refused_class(ip: IPAddress) -> str | None:
    """The class of address a webhook may not reach, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return refused_class(ip.ipv4_mapped)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "unique-local"
    if ip.is_reserved:  # before is_private, which also covers 240.0.0.0/4
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:  # e.g. carrier-grade NAT: neither private nor reachable from outside
        return "reserved"
    return None


def checked_url(raw: object, *, allow_private: bool) -> httpx.URL:
    """The URL's own shape: https (http only where private targets are allowed), a host, no
    credentials in it."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_URL_CHARS:
        raise UnsafeWebhookUrl(f"url must be an http(s) URL of at most {MAX_URL_CHARS} characters")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError):
        raise UnsafeWebhookUrl("url is not a valid URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if url.scheme not in schemes:
        raise UnsafeWebhookUrl("url must use " + " or ".join(schemes))
    if not url.host:
        raise UnsafeWebhookUrl("url must name a host")
    if url.userinfo:
        raise UnsafeWebhookUrl("url must not carry credentials")
    return url


async def resolve_target(raw: object, *, allow_private: bool) -> Target:
    """Check the URL, resolve its host and check every address; the first is the one to use."""
    url = checked_url(raw, allow_private=allow_private)
    addresses = await _addresses(url)
    if not allow_private:
        for ip in addresses:
            refused = refused_class(ip)
            if refused is not None:
                raise UnsafeWebhookUrl(f"url resolves to a {refused} address ({ip})")
    return Target(url=url, address=str(addresses[0]))


async def _addresses(url: httpx.URL) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(url.host)]
    except ValueError:
        pass
    port = url.port or (443 if url.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(url.host, port, type=socket.SOCK_STREAM),
            timeout=RESOLVE_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError, UnicodeError):
        raise UnsafeWebhookUrl(f"url's host {url.host} does not resolve") from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise UnsafeWebhookUrl(f"url's host {url.host} does not resolve")
    return found
