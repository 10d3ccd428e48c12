"""D17 submit-time validation: scheme, exact host, numeric id; and the canonical key each URL shape
reveals."""

from __future__ import annotations

import pytest

from knightvision.providers.ad_source.urls import AdRef, InvalidAdUrl, parse_ad_url

FB_LIBRARY = "https://www.facebook.com/ads/library/?id="

KEYED = [
    # Facebook Ad Library, any allowed host, any extra query: rebuilt to the one canonical URL.
    (
        "https://www.facebook.com/ads/library/?id=123456789",
        "facebook:123456789",
        FB_LIBRARY + "123456789",
    ),
    (
        "https://facebook.com/ads/library/?active_status=all&ad_type=all&country=US&id=987&media_type=all",
        "facebook:987",
        FB_LIBRARY + "987",
    ),
    ("http://m.facebook.com/ads/library?id=5", "facebook:5", FB_LIBRARY + "5"),
    ("HTTPS://WWW.FACEBOOK.COM/ads/library/?id=42", "facebook:42", FB_LIBRARY + "42"),
    ("https://www.facebook.com:443/ads/library/?id=42", "facebook:42", FB_LIBRARY + "42"),
    ("http://www.facebook.com:80/ads/library/?id=42", "facebook:42", FB_LIBRARY + "42"),
    ("  https://www.facebook.com/ads/library/?id=42\n", "facebook:42", FB_LIBRARY + "42"),
    ("https://www.facebook.com/ads/library/?id=42#top", "facebook:42", FB_LIBRARY + "42"),
    ("https://www.facebook.com/ads/library/?id=0042", "facebook:42", FB_LIBRARY + "42"),
    ("https://www.facebook.com/ads/library/?id=42&id=042", "facebook:42", FB_LIBRARY + "42"),
    # Facebook videos, reels, watch: one id space.
    (
        "https://www.facebook.com/SomeBrand/videos/1234567890/",
        "facebook:1234567890",
        "https://www.facebook.com/watch/?v=1234567890",
    ),
    (
        "https://www.facebook.com/SomeBrand/videos/a-title/1234567890",
        "facebook:1234567890",
        "https://www.facebook.com/watch/?v=1234567890",
    ),
    (
        "https://www.facebook.com/Caf\u00e9/videos/77/",
        "facebook:77",
        "https://www.facebook.com/watch/?v=77",
    ),
    (
        "https://www.facebook.com/reel/1122334455",
        "facebook:1122334455",
        "https://www.facebook.com/reel/1122334455/",
    ),
    (
        "https://www.facebook.com/watch/?v=998877",
        "facebook:998877",
        "https://www.facebook.com/watch/?v=998877",
    ),
    (
        "https://m.facebook.com/watch?v=998877&ref=sharing",
        "facebook:998877",
        "https://www.facebook.com/watch/?v=998877",
    ),
    # Instagram shortcodes are case-sensitive and keep their - and _.
    (
        "https://www.instagram.com/p/C0dEfGh_-12/",
        "instagram:C0dEfGh_-12",
        "https://www.instagram.com/p/C0dEfGh_-12/",
    ),
    (
        "https://instagram.com/reel/Cx9-AbC/?igsh=MWZ4",
        "instagram:Cx9-AbC",
        "https://www.instagram.com/p/Cx9-AbC/",
    ),
    (
        "https://www.instagram.com/reels/Cx9AbC/",
        "instagram:Cx9AbC",
        "https://www.instagram.com/p/Cx9AbC/",
    ),
    (
        "https://www.instagram.com/some.brand/p/Cx9AbC/",
        "instagram:Cx9AbC",
        "https://www.instagram.com/p/Cx9AbC/",
    ),
    # TikTok: rebuilt on www.tiktok.com, the only host yt-dlp's extractor takes.
    (
        "https://www.tiktok.com/@brand.name/video/7301234567890123456?is_from_webapp=1",
        "tiktok:7301234567890123456",
        "https://www.tiktok.com/@brand.name/video/7301234567890123456",
    ),
    (
        "https://tiktok.com/@brand/video/7301",
        "tiktok:7301",
        "https://www.tiktok.com/@brand/video/7301",
    ),
    # A bare numeric id is a Facebook Ad Library id.
    ("123456789", "facebook:123456789", FB_LIBRARY + "123456789"),
    (" 123456789 \t", "facebook:123456789", FB_LIBRARY + "123456789"),
    ("000123", "facebook:123", FB_LIBRARY + "123"),
    ("9" * 20, "facebook:" + "9" * 20, FB_LIBRARY + "9" * 20),
]


@pytest.mark.parametrize(("raw", "key", "url"), KEYED)
def test_keyed_urls(raw: str, key: str, url: str) -> None:
    ref = parse_ad_url(raw)
    assert ref == AdRef(key.partition(":")[0], url, key)  # type: ignore[arg-type]


KEYLESS = [
    # Accepted at submit (host and scheme are fine); resolved or refused while downloading.
    ("https://vm.tiktok.com/ZMabc123/", "tiktok", "https://vm.tiktok.com/ZMabc123/"),
    ("https://www.tiktok.com/t/ZTabc123/", "tiktok", "https://www.tiktok.com/t/ZTabc123/"),
    (
        "https://www.tiktok.com/@brand/photo/7301",
        "tiktok",
        "https://www.tiktok.com/@brand/photo/7301",
    ),
    (
        "https://www.facebook.com/share/v/1AbCdEf/",
        "facebook",
        "https://www.facebook.com/share/v/1AbCdEf/",
    ),
    ("https://www.facebook.com/SomeBrand", "facebook", "https://www.facebook.com/SomeBrand"),
    ("https://www.facebook.com/Caf\u00e9", "facebook", "https://www.facebook.com/Caf%C3%A9"),
    ("https://www.facebook.com", "facebook", "https://www.facebook.com/"),
    ("https://www.facebook.com/ads/library/", "facebook", "https://www.facebook.com/ads/library/"),
    (
        "https://www.facebook.com/ads/library/?id=abc",
        "facebook",
        "https://www.facebook.com/ads/library/?id=abc",
    ),
    (
        "https://www.facebook.com/ads/library/?id=1&id=2",
        "facebook",
        "https://www.facebook.com/ads/library/?id=1&id=2",
    ),
    (
        "https://www.facebook.com/ads/library/?id=0",
        "facebook",
        "https://www.facebook.com/ads/library/?id=0",
    ),
    (
        "https://www.facebook.com/watch/?v=" + "1" * 21,
        "facebook",
        "https://www.facebook.com/watch/?v=" + "1" * 21,
    ),
    (
        "https://www.instagram.com/share/reel/BAabc/",
        "instagram",
        "https://www.instagram.com/share/reel/BAabc/",
    ),
    (
        "https://www.instagram.com/reels/audio/",
        "instagram",
        "https://www.instagram.com/reels/audio/",
    ),
    ("https://www.instagram.com/some.brand/", "instagram", "https://www.instagram.com/some.brand/"),
]


@pytest.mark.parametrize(("raw", "platform", "url"), KEYLESS)
def test_accepted_without_a_key(raw: str, platform: str, url: str) -> None:
    assert parse_ad_url(raw) == AdRef(platform, url, None)  # type: ignore[arg-type]


INVALID = [
    # empty, too long
    "",
    "   ",
    "https://www.facebook.com/ads/library/?id=1&x=" + "a" * 2100,
    # schemes
    "ftp://www.facebook.com/ads/library/?id=1",
    "javascript:alert(1)//www.facebook.com",
    "data:text/html,<a href=https://www.facebook.com>",
    "file:///etc/passwd",
    "www.facebook.com/ads/library/?id=1",
    "//www.facebook.com/ads/library/?id=1",
    "https:/www.facebook.com/",
    "https:///www.facebook.com/",
    "https:www.facebook.com",
    # hosts: suffix and prefix tricks, unlisted subdomains and sites
    "https://evilfacebook.com/ads/library/?id=1",
    "https://facebook.com.evil.com/ads/library/?id=1",
    "https://www.facebook.com.evil.com/",
    "https://evil.com/www.facebook.com",
    "https://evil.com?u=https://www.facebook.com/",
    "https://evil.com#@www.facebook.com",
    "https://web.facebook.com/ads/library/?id=1",
    "https://l.facebook.com/l.php?u=https%3A%2F%2Fevil.com",
    "https://fb.watch/abc/",
    "https://vt.tiktok.com/ZSabc/",
    "https://www.youtube.com/watch?v=1",
    "https://127.0.0.1/ads/library/?id=1",
    "https://[::1]/",
    "https://www.facebook.com./ads/library/?id=1",
    "https://www.facebook.com../",
    "https://faceb%6Fok.com/",
    # userinfo
    "https://www.facebook.com@evil.com/",
    "https://user:pass@www.facebook.com/ads/library/?id=1",
    "https://@www.facebook.com/",
    "https://www.facebook.com%2F@evil.com/",
    "https://www.facebook.com:443@evil.com/",
    # ports
    "https://www.facebook.com:8443/ads/library/?id=1",
    "http://www.facebook.com:443/ads/library/?id=1",
    "https://www.facebook.com:80/ads/library/?id=1",
    "https://www.facebook.com:/ads/library/?id=1",
    "https://www.facebook.com:0443/ads/library/?id=1",
    "https://www.facebook.com:abc/",
    # backslashes, whitespace and invisible characters inside
    "https://www.facebook.com\\@evil.com/",
    "https://evil.com\\.facebook.com/",
    "https://www.facebook.com/ads\\library/?id=1",
    "https://www.face book.com/",
    "https://www.facebook.com/ads library/?id=1",
    "https://www.face\tbook.com/",
    "https://www.facebook.com\n.evil.com/",
    "https://www.facebook.com\u200b/",
    "https://www.facebook.com\u00a0/",
    # IDNA and Unicode lookalikes
    "https://www.f\u0430cebook.com/",  # Cyrillic a
    "https://\uff57\uff57\uff57.facebook.com/",  # fullwidth www
    "https://www.facebook\u3002com/",  # ideographic full stop
    "https://xn--facebook-9ya.com/",
    "https://www.\u0192acebook.com/",
    "https://www.faceboo\u212a.com/",  # Kelvin sign: lower() makes it an ASCII k
    "http\u017f://www.facebook.com/",  # long s: case-folds to s
    # numeric ids
    "0",
    "000",
    "-123",
    "+123",
    "12 34",
    "1.5",
    "1e9",
    "9" * 21,
    "\uff11\uff12\uff13",  # fullwidth digits
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "123abc",
]


@pytest.mark.parametrize("raw", INVALID)
def test_refused(raw: str) -> None:
    with pytest.raises(InvalidAdUrl):
        parse_ad_url(raw)


@pytest.mark.parametrize("raw", [None, 123456789, ["https://www.facebook.com/"], b"123"])
def test_non_strings_are_refused(raw: object) -> None:
    with pytest.raises(InvalidAdUrl):
        parse_ad_url(raw)


def test_invalid_url_is_a_value_error() -> None:
    assert issubclass(InvalidAdUrl, ValueError)


def test_extra_hosts_may_carry_a_port_and_keep_their_origin() -> None:
    hosts = {"127.0.0.1:8123": "tiktok"}
    ref = parse_ad_url("http://127.0.0.1:8123/@kv/video/0077?x=1", hosts=hosts)  # type: ignore[arg-type]
    assert ref == AdRef("tiktok", "http://127.0.0.1:8123/@kv/video/77", "tiktok:77")
    with pytest.raises(InvalidAdUrl):
        parse_ad_url("http://127.0.0.1:8124/@kv/video/77", hosts=hosts)  # type: ignore[arg-type]
    with pytest.raises(InvalidAdUrl):
        parse_ad_url("https://www.tiktok.com/@kv/video/77", hosts=hosts)  # type: ignore[arg-type]
