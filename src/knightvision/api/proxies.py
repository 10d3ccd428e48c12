"""Who the client is when proxies stand in front of us (README "Behind a proxy").

The per-address throttles (ADR 0007) and the access log name a client by its address: the
connection's peer, or, when that peer is a proxy the operator trusts
(``KNIGHTVISION_TRUSTED_PROXIES``), the nearest address in ``X-Forwarded-For`` that is not one of
those proxies. A proxy that is not trusted makes every client behind it one address to the
throttles, so its forwarding headers are reported once per proxy.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from starlette.types import Scope

log = logging.getLogger("knightvision.proxies")

#: Headers only a proxy sends: RFC 7239 ``Forwarded``, and the two common informal ones.
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})
#: Peers remembered as reported or trusted; past this many, new ones go unreported.
_PEERS_REMEMBERED = 1024

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The operator's proxies, parsed once (settings checked every entry at start)."""

    def __init__(self, networks: Sequence[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(net, strict=False) for net in networks
        )

    def trusts(self, address: str) -> bool:
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client_address(self, scope: Scope) -> str:
        """The socket peer, or the first untrusted hop of X-Forwarded-For behind a trusted proxy
        (every X-Forwarded-For line, in order, as RFC 9110 §5.3 joins repeated fields)."""
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        if not self.trusts(peer):
            return peer
        hops: list[str] = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return peer


class UntrustedProxyWarning:
    """One WARNING per peer that sends forwarding headers without being a trusted proxy.

    It runs on every request, the hot path included: a set lookup, and for a peer not yet settled
    a look at the header names (a few byte comparisons)."""

    def __init__(self, proxies: TrustedProxies) -> None:
        self.proxies = proxies
        self._settled: set[str] = set()  # peers reported, or trusted: nothing more to say

    def __call__(self, scope: Scope) -> None:
        client = scope.get("client")
        if client is None or client[0] in self._settled:
            return
        for name, _ in scope["headers"]:
            if name in FORWARDING_HEADERS:
                self._forwarded_by(client[0], name.decode("latin-1"))
                return

    def _forwarded_by(self, peer: str, header: str) -> None:
        if len(self._settled) >= _PEERS_REMEMBERED:
            return  # bounded memory: past this many, new peers go unreported
        self._settled.add(peer)
        if self.proxies.trusts(peer):
            return
        log.warning(
            "requests from %s carry %s, but %s is not in KNIGHTVISION_TRUSTED_PROXIES: its"
            " forwarding headers are ignored, so every client behind it is one address (%s) to"
            " the access log and to the failed-auth and /static miss throttles, and one client's"
            " failures slow the failures of all of them. If it is your proxy, add it to"
            ' KNIGHTVISION_TRUSTED_PROXIES (README "Behind a proxy")',
            peer,
            header,
            peer,
            peer,
        )
