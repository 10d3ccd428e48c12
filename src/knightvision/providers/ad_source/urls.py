"""Ad URLs as partners send them, reduced to what we fetch and what we cache by (D17).

Submit-time rules are only the contract's: an ``http``/``https`` URL on an exact allowlisted host,
or a bare numeric ad id (→ the Facebook Ad Library). Anything subtler (a page shape we cannot
download, a dead short link) is found while downloading.

Decisions on the open points, each pinned by a test:

* The host is matched exactly, case-insensitively, after nothing but lower-casing: no trailing
  dot (``facebook.com.``), no IDNA or Unicode lookalikes, no percent-escapes, no IP literals.
* No userinfo (``user@``), ever. A port is refused unless it is the scheme's default written
  out exactly (``https://…:443``, ``http://…:80``), which is dropped on normalising.
* Whitespace or control characters inside the URL and backslashes anywhere are refused (parsers
  disagree on them); surrounding whitespace is stripped. The fragment is dropped.
* A scheme-less ``facebook.com/…`` is refused: the contract asks for a URL.
* A bare id is 1–20 ASCII digits (a 64-bit id has at most 20); leading zeros are dropped, so
  ``007`` and ``7`` are one ad; all zeros, signs and other digit scripts are refused.
* A URL whose shape reveals the ad or post is rebuilt from its key (``AdRef.url``), so the
  page we download is exactly the one we cache it under, whatever else the query carried.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, quote

from knightvision.kit.charclasses import HIDDEN, WHITESPACE


class Platform(StrEnum):
    """Where an ad lives; the first part of its cache key and the wire's ``platform``."""

    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"


PLATFORMS: tuple[Platform, ...] = tuple(Platform)
PLATFORM_NAMES: dict[str, str] = {
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.TIKTOK: "TikTok",
}  # as partners read them

ALLOWED_HOSTS: Mapping[str, Platform] = {
    "facebook.com": Platform.FACEBOOK,
    "www.facebook.com": Platform.FACEBOOK,
    "m.facebook.com": Platform.FACEBOOK,
    "instagram.com": Platform.INSTAGRAM,
    "www.instagram.com": Platform.INSTAGRAM,
    "tiktok.com": Platform.TIKTOK,
    "www.tiktok.com": Platform.TIKTOK,
    "vm.tiktok.com": Platform.TIKTOK,
}
"""Host (or ``host:port``, for a test server) → platform. Only exact keys match."""

# Where a keyed URL is rebuilt for a real platform host: the extractors want these hosts
# (yt-dlp's TikTok extractor, for one, only matches www.tiktok.com).
_CANONICAL_ORIGIN: Mapping[Platform, str] = {
    Platform.FACEBOOK: "https://www.facebook.com",
    Platform.INSTAGRAM: "https://www.instagram.com",
    Platform.TIKTOK: "https://www.tiktok.com",
}

MAX_URL_LENGTH = 2048
MAX_NUMERIC_ID_DIGITS = 20
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_DIGITS = re.compile(r"[0-9]+")
_SCHEME = re.compile(r"(https?)://", re.IGNORECASE | re.ASCII)  # ASCII: "httpſ" must not match
_HOST = re.compile(r"[a-z0-9.-]+")
_PORT = re.compile(r"[0-9]+")
_SHORTCODE = r"(?!audio/?$)[A-Za-z0-9_-]{1,80}"

_FACEBOOK_REEL = re.compile(r"/reel/(?P<id>[0-9]+)/?")
_FACEBOOK_VIDEO = re.compile(r"/(?:[^/]+/)?videos/(?:[^/]+/)?(?P<id>[0-9]+)/?")
# ``/share/…`` codes are not post shortcodes (yt-dlp refuses them too): those links are resolved.
_INSTAGRAM_SHAPE = re.compile(
    rf"/(?:(?!share/)[A-Za-z0-9_.]+/)?(?:p|reels?)/(?P<id>{_SHORTCODE})/?"
)
_TIKTOK_SHAPE = re.compile(r"/@(?P<user>[A-Za-z0-9_.-]{1,64})/video/(?P<id>[0-9]+)/?")


class InvalidAdUrl(ValueError):
    """Not an ad URL we accept; the API answers 400 ``invalid_url`` (D6)."""


@dataclass(frozen=True)
class AdRef:
    """An accepted ad: its platform, the URL to download, and its cache key if the URL shows it."""

    platform: Platform
    url: str
    canonical_key: str | None


def parse_ad_url(raw: object, *, hosts: Mapping[str, Platform] = ALLOWED_HOSTS) -> AdRef:
    """Validate a partner's ``url`` field (a URL or a bare numeric ad id) and normalise it.

    ``hosts`` is the allowlist; tests widen it to a loopback ``host:port``.
    """
    if not isinstance(raw, str):
        raise InvalidAdUrl("not a string")
    text = raw.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise InvalidAdUrl("empty or too long")
    if _DIGITS.fullmatch(text):
        ad_id = _numeric_id(text)
        if ad_id is None:
            raise InvalidAdUrl("not a usable ad id")
        return AdRef(
            Platform.FACEBOOK,
            f"{_CANONICAL_ORIGIN[Platform.FACEBOOK]}/ads/library/?id={ad_id}",
            f"{Platform.FACEBOOK}:{ad_id}",
        )
    return _parse_url(text, hosts)


def _parse_url(text: str, hosts: Mapping[str, Platform]) -> AdRef:
    if "\\" in text or any(_is_hidden(ch) for ch in text):
        raise InvalidAdUrl("whitespace, control characters or backslashes")
    scheme_match = _SCHEME.match(text)
    if scheme_match is None:
        raise InvalidAdUrl("only http and https URLs")
    scheme = scheme_match.group(1).lower()
    rest = text[scheme_match.end() :]
    split_at = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:split_at], rest[split_at:]
    if "@" in authority:
        raise InvalidAdUrl("userinfo is not allowed")
    if not authority.isascii():  # before lower(): the Kelvin sign "K" lower-cases to an ASCII "k"
        raise InvalidAdUrl("host is not ASCII")
    host, colon, port = authority.partition(":")
    host = host.lower()
    if not _HOST.fullmatch(host):
        raise InvalidAdUrl("host is not a plain DNS name")
    if colon and not _PORT.fullmatch(port):
        raise InvalidAdUrl("malformed port")
    host_key = host if not colon or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    platform = hosts.get(host_key)
    if platform is None:
        raise InvalidAdUrl("host not on the allowlist")

    tail = tail.partition("#")[0]
    path, _, query = tail.partition("?")
    path = _ascii(path) or "/"
    query = _ascii(query)
    keyed = _keyed(platform, path, query)
    if keyed is None:
        url = f"{scheme}://{host_key}{path}" + (f"?{query}" if query else "")
        return AdRef(platform, url, None)
    ad_id, canonical_path = keyed
    origin = _CANONICAL_ORIGIN[platform] if host_key in ALLOWED_HOSTS else f"{scheme}://{host_key}"
    return AdRef(platform, origin + canonical_path, f"{platform}:{ad_id}")


def _keyed(platform: Platform, path: str, query: str) -> tuple[str, str] | None:
    """The ad or post id the URL's shape reveals and the path it is fetched from, or None."""
    ad_id: str | None
    if platform == Platform.INSTAGRAM:
        m = _INSTAGRAM_SHAPE.fullmatch(path)
        return (m["id"], f"/p/{m['id']}/") if m else None
    if platform == Platform.TIKTOK:
        m = _TIKTOK_SHAPE.fullmatch(path)
        ad_id = _numeric_id(m["id"]) if m else None
        return (ad_id, f"/@{m['user']}/video/{ad_id}") if m and ad_id else None
    if path in ("/ads/library", "/ads/library/"):
        ad_id = _single_numeric(query, "id")
        return (ad_id, f"/ads/library/?id={ad_id}") if ad_id else None
    if path in ("/watch", "/watch/"):
        ad_id = _single_numeric(query, "v")
    elif m := _FACEBOOK_REEL.fullmatch(path):
        ad_id = _numeric_id(m["id"])
        return (ad_id, f"/reel/{ad_id}/") if ad_id else None
    elif m := _FACEBOOK_VIDEO.fullmatch(path):
        ad_id = _numeric_id(m["id"])
    else:
        return None
    return (ad_id, f"/watch/?v={ad_id}") if ad_id else None


def _single_numeric(query: str, name: str) -> str | None:
    """The one numeric value of ``name`` in the query; None if missing, repeated or not a number."""
    values = parse_qs(query, keep_blank_values=True).get(name, [])
    ids = {_numeric_id(v) if _DIGITS.fullmatch(v) else None for v in values}
    return ids.pop() if len(ids) == 1 else None


def _numeric_id(digits: str) -> str | None:
    """ASCII digits without leading zeros; None for all zeros or more than 20 digits."""
    if len(digits) > MAX_NUMERIC_ID_DIGITS:
        return None
    stripped = digits.lstrip("0")
    return stripped or None


def _is_hidden(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _ascii(part: str) -> str:
    """Percent-encode non-ASCII characters, as a browser's address bar copies them."""
    return quote(part, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def ad_url_pattern(hosts: Mapping[str, Platform] = ALLOWED_HOSTS) -> str:
    """A regular expression (Python ``re`` and ECMA-262 alike, for ``search``) matching exactly
    the strings ``parse_ad_url`` accepts: for the ``url`` field of the API's JSON Schema."""
    space, not_space = f"[{WHITESPACE}]*", f"[^{WHITESPACE}]"
    digits = rf"(?=[0-9]{{1,{MAX_NUMERIC_ID_DIGITS}}}{space}$)0*[1-9][0-9]*"
    authorities = []
    for scheme, port in _DEFAULT_PORTS.items():
        names = "|".join(_any_case(host) for host in hosts if ":" not in host)
        with_port = "|".join(_any_case(host) for host in hosts if ":" in host)
        choices = [f"(?:{names})(?::{port})?"] if names else []
        choices += [f"(?:{with_port})"] if with_port else []
        if choices:
            authorities.append(f"{_any_case(scheme)}://(?:{'|'.join(choices)})")
    url = f"(?:{'|'.join(authorities)})(?:[/?#][^{HIDDEN}\\\\]*)?"
    return rf"^{space}(?={not_space}{{1,{MAX_URL_LENGTH}}}{space}$)(?:{digits}|{url}){space}$"


def _any_case(text: str) -> str:
    """``text`` matched with ASCII letters in either case, nothing else (no Unicode folding)."""
    return "".join(
        f"[{ch}{ch.upper()}]" if "a" <= ch <= "z" else re.escape(ch) for ch in text.lower()
    )
