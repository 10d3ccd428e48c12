"""Short links (``vm.tiktok.com/…``, share links) followed hop by hop to the ad they name.

Each hop must itself pass ``parse_ad_url`` against the allowlist, so a redirect can never take
us off the allowed sites (nor to an internal address). We stop at the first URL whose shape
reveals the ad; that URL, not the short one, is what gets downloaded and cached (D17).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from knightvision.providers.ad_source.port import (
    SOURCE_LOGIN_REQUIRED,
    SOURCE_TIMEOUT,
    SOURCE_UNAVAILABLE,
    SOURCE_UNSUPPORTED,
    SourceError,
)
from knightvision.providers.ad_source.urls import AdRef, InvalidAdUrl, Platform, parse_ad_url

MAX_HOPS = 5
# The crawler user agent the platforms answer with a plain redirect (yt-dlp's TikTok VM
# extractor uses it too).
USER_AGENT = "facebookexternalhit/1.1"
_LOGIN_PATHS = ("/login", "/accounts/login", "/checkpoint")


def resolve_short_link(ref: AdRef, hosts: Mapping[str, Platform], timeout_s: float) -> AdRef:
    """Follow redirects from ``ref.url`` until a keyed URL;
    raises ``SourceError`` when there is none."""
    if ref.canonical_key is not None:
        return ref
    url = ref.url
    with httpx.Client(
        timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}
    ) as client:
        for _ in range(MAX_HOPS):
            location = _next_hop(client, url)
            if location is None:
                break
            try:
                hop = parse_ad_url(urljoin(url, location), hosts=hosts)
            except InvalidAdUrl as exc:
                raise SourceError(
                    SOURCE_UNSUPPORTED,
                    "The link leads outside Facebook, Instagram and TikTok.",
                    detail=f"{url} -> {location}",
                ) from exc
            if hop.canonical_key is not None:
                return hop
            url = hop.url
        else:
            raise SourceError(SOURCE_UNSUPPORTED, "The link redirects too many times.", detail=url)
    if urlsplit(url).path.rstrip("/").startswith(_LOGIN_PATHS):
        raise SourceError(
            SOURCE_LOGIN_REQUIRED, "The platform asks for a login to show this ad.", detail=url
        )
    raise SourceError(
        SOURCE_UNSUPPORTED, "This link does not point to an ad or post we can download.", detail=url
    )


def _next_hop(client: httpx.Client, url: str) -> str | None:
    """The redirect target of ``url``, or None when it answers without redirecting."""
    try:
        response = client.head(url)
        if response.status_code in (405, 501):
            with client.stream("GET", url) as response:
                pass
    except httpx.TimeoutException as exc:
        raise SourceError(
            SOURCE_TIMEOUT, "The platform did not answer in time.", True, detail=repr(exc)
        ) from exc
    except httpx.HTTPError as exc:
        raise SourceError(
            SOURCE_UNAVAILABLE, "The platform could not be reached.", True, detail=repr(exc)
        ) from exc
    except httpx.InvalidURL as exc:  # httpx vets a Location header even when it does not follow it
        raise SourceError(
            SOURCE_UNSUPPORTED, "The link redirects somewhere we cannot follow.", detail=repr(exc)
        ) from exc
    status = response.status_code
    if response.is_redirect:
        return response.headers["location"]
    if status == 401:
        raise SourceError(
            SOURCE_LOGIN_REQUIRED,
            "The platform asks for a login to show this ad.",
            detail=f"HTTP {status} {url}",
        )
    if status == 429 or status >= 500:
        raise SourceError(
            SOURCE_UNAVAILABLE,
            "The platform is not answering right now.",
            True,
            detail=f"HTTP {status} {url}",
        )
    if status >= 400:
        raise SourceError(
            SOURCE_UNAVAILABLE,
            "The link is dead: the ad or post does not exist any more.",
            detail=f"HTTP {status} {url}",
        )
    return None
