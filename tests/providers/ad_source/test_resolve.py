"""Short links: followed hop by hop, every hop on the allowlist, keyed only once they name the ad
(D17)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from knightvision.providers.ad_source.port import SourceError
from knightvision.providers.ad_source.urls import AdRef
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from tests.fakes.ad_server import AdServer, Reply

Source = Callable[..., YtDlpSource]
RefFor = Callable[[str], AdRef]


def test_a_keyed_ref_needs_no_request(
    server: AdServer, make_source: Source, ref_for: RefFor
) -> None:
    ref = ref_for("/reel/5")
    assert make_source().resolve(ref) == ref
    assert server.total() == 0


def test_resolution_stops_at_the_first_keyed_url(
    server: AdServer, make_source: Source, ref_for: RefFor
) -> None:
    server.route("/t/ZTabc/", Reply.redirect("/watch/?v=0031&utm=x", status=308))
    resolved = make_source().resolve(ref_for("/t/ZTabc/"))
    assert resolved == AdRef("facebook", server.url("/watch/?v=31"), "facebook:31")
    assert server.calls == [("HEAD", "/t/ZTabc/")]


def test_get_when_head_is_not_allowed(
    server: AdServer, make_source: Source, ref_for: RefFor
) -> None:
    server.route("/s/1/", Reply(status=405), method="HEAD")
    server.route("/s/1/", Reply.redirect("/reel/9/"))
    assert make_source().resolve(ref_for("/s/1/")).canonical_key == "facebook:9"
    assert server.calls == [("HEAD", "/s/1/"), ("GET", "/s/1/")]


def test_a_hop_off_the_allowlist_is_never_requested(
    server: AdServer, make_source: Source, ref_for: RefFor
) -> None:
    off_list = server.url("/reel/9/").replace("127.0.0.1", "localhost")
    server.route("/s/2/", Reply.redirect(off_list))
    with pytest.raises(SourceError) as caught:
        make_source().resolve(ref_for("/s/2/"))
    assert caught.value.code == "source_unsupported"
    assert server.calls == [("HEAD", "/s/2/")]


@pytest.mark.parametrize(
    ("routes", "code", "retryable"),
    [
        pytest.param({"/s/3/": Reply.redirect("/s/3/")}, "source_unsupported", False, id="loop"),
        pytest.param(
            {"/s/3/": Reply.redirect("/SomeBrand"), "/SomeBrand": Reply.page("a page")},
            "source_unsupported",
            False,
            id="lands-on-a-page",
        ),
        pytest.param(
            {"/s/3/": Reply.redirect("/login/?next=%2Freel%2F9"), "/login/": Reply.page("log in")},
            "source_login_required",
            False,
            id="login-wall",
        ),
        pytest.param({"/s/3/": Reply(status=401)}, "source_login_required", False, id="401"),
        pytest.param({"/s/3/": Reply(status=404)}, "source_unavailable", False, id="dead-link"),
        pytest.param({"/s/3/": Reply(status=502)}, "source_unavailable", True, id="502"),
        pytest.param({"/s/3/": Reply(delay_s=2.0)}, "source_timeout", True, id="stall"),
        pytest.param(
            {"/s/3/": Reply.redirect("javascript:alert(1)")},
            "source_unsupported",
            False,
            id="scheme",
        ),
    ],
)
def test_resolution_failures(
    server: AdServer,
    make_source: Source,
    ref_for: RefFor,
    routes: dict[str, Reply],
    code: str,
    retryable: bool,
) -> None:
    for path, reply in routes.items():
        server.route(path, reply)
    with pytest.raises(SourceError) as caught:
        make_source(timeout_s=0.5).resolve(ref_for("/s/3/"))
    assert (caught.value.code, caught.value.retryable) == (code, retryable), caught.value.detail
    assert server.total() <= 5
