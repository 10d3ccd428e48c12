"""The OpenAPI schema of each request body and our parser accept and refuse the same bodies.

Bodies are generated field by field from valid and invalid values (types, bounds, enums, blanks,
missing required fields, unknown fields). The schemas come from ``app.openapi()`` and are checked
with ``jsonschema`` plus the two D4a rules JSON Schema has no word for (see
``api.request_schemas``): an integer is a JSON integer literal, and ``x-maxDistinctItems``.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from knightvision.account.repository import KeyPrincipal
from knightvision.analysis.service import AnalysisService
from knightvision.app import create_app
from knightvision.character.upstream import MAX_CHARACTER_SECONDS, character_upstream
from knightvision.character.validation import parse_character_request, parse_finalize_request
from knightvision.errors import BadRequestError
from knightvision.kit.charclasses import CONTROL_RANGES, HIDDEN_RANGES, WHITESPACE_RANGES
from knightvision.providers.ad_source.urls import ALLOWED_HOSTS
from knightvision.settings import load_settings
from knightvision.video.models import DEFAULT_MODELS
from knightvision.video.validation import parse_video_request

API = "/api/v1/partner"
DEFAULT_MODEL_NAMES = [model.name for model in DEFAULT_MODELS]
Body = dict[str, Any]

# The characters' upstreams the schemas are generated for: our renderer (1-60 s, every aspect,
# 1-4 s segments), and EvoLink (Sora shapes reached by trimming, 1-2 s segments).
UPSTREAMS = {"local": None, "evolink": {"adapter": "evolink"}}


def _json_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _max_distinct_items(
    validator: Any, limit: int, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "array"):
        distinct = {json.dumps(item, sort_keys=True) for item in instance}
        if len(distinct) > limit:
            yield ValidationError(f"more than {limit} distinct items")


D4aValidator = validators.extend(
    Draft202012Validator,
    validators={"x-maxDistinctItems": _max_distinct_items},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _json_integer),
)


class App:
    def __init__(self, data_dir: Path, character_route: dict[str, Any] | None) -> None:
        overrides = {"character_route": character_route} if character_route else {}
        self.settings = load_settings(data_dir=data_dir, **overrides)
        self.app = create_app(self.settings, run_workers=False)
        self.spec = self.app.openapi()
        self.container = self.app.state.container
        self.upstream = character_upstream(self.settings.character_route)
        self._validators: dict[str, Any] = {}

    def validator(self, path: str) -> Any:
        if path not in self._validators:
            body = self.spec["paths"][f"{API}{path}"]["post"]["requestBody"]
            schema = body["content"]["application/json"]["schema"]
            D4aValidator.check_schema(schema)
            self._validators[path] = D4aValidator(schema)
        return self._validators[path]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, App]:
    return {name: App(tmp_path_factory.mktemp(name), route) for name, route in UPSTREAMS.items()}


def _agree(validator: Any, body: Body, parse: Callable[[Body], object]) -> None:
    """The body goes over the wire as JSON: the schema judges the document, the parser what our
    decoder makes of it (orjson, as ``api.bodies.json_object``: integers past 64 bits are
    floats)."""
    wire = json.dumps(body)
    errors = [error.message for error in validator.iter_errors(json.loads(wire))]
    try:
        parse(orjson.loads(wire))
        parser_accepts = True
    except BadRequestError:
        parser_accepts = False
    assert (not errors) == parser_accepts, (
        f"schema {'refuses' if errors else 'accepts'} ({errors[:2]}), parser "
        f"{'accepts' if parser_accepts else 'refuses'}: {wire}"
    )


# Values ------------------------------------------------------------------------------------------

Values = tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]  # (usual, unusual)
_ABSENT = object()

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from([1.0, 4.0, 10.0, 15.0, 10.5]),  # integral floats are not JSON integers (D4a)
    st.text(max_size=4),
    st.sampled_from(["10", "4", "sora-2", "9:16", "720p"]),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
BLANKS = st.text(alphabet=" \t\n\x1c\x85\xa0\u2003\u3000", max_size=4)
INVISIBLE_BUT_NOT_BLANK = st.sampled_from(["\u200b", "\ufeff", "\x00", "a"])
#: text with a control character somewhere (refused), or with tabs and line breaks (allowed)
CONTROL_OR_NOT = ["a", " ", "\t", "\n", "\r", "\x00", "\x07", "\x1b", "\x7f", "\x85", "é"]
CONTROLLED = st.lists(st.sampled_from(CONTROL_OR_NOT), min_size=1, max_size=5).map("".join)


@st.composite
def mixed(draw: st.DrawFn, parts: dict[str, Values], most_odd: int = 2) -> dict[str, Any]:
    """Usual values for all parts but up to ``most_odd``, which take unusual ones or are left
    out. A body is refused as soon as one field is wrong, so the others must usually be right
    for each field's edges to be seen."""
    odd = draw(st.sets(st.sampled_from(sorted(parts)), max_size=most_odd))
    drawn = {
        name: draw(st.one_of(st.just(_ABSENT), unusual) if name in odd else usual)
        for name, (usual, unusual) in parts.items()
    }
    return {name: value for name, value in drawn.items() if value is not _ABSENT}


EXTRA_FIELDS = st.dictionaries(
    st.sampled_from(["webhook", "extra", "Prompt", "seed"]), JUNK, max_size=2
)


def bodies(**fields: Values) -> st.SearchStrategy[Body]:
    """Objects of ``fields`` (required ones go missing too), plus unknown fields, which are
    ignored (D4a)."""
    return st.tuples(EXTRA_FIELDS, mixed(fields)).map(lambda pair: {**pair[0], **pair[1]})


def texts(limit: int) -> Values:
    """Text up to and just over ``limit`` characters; blank text and other types."""
    return (
        st.one_of(
            st.text(min_size=1, max_size=8).filter(str.strip),
            st.integers(limit - 2, limit + 1).map(lambda n: "x" * n),
            st.tuples(BLANKS, st.integers(limit - 5, limit)).map(lambda t: t[0] + "y" * t[1]),
        ),
        st.one_of(
            st.text(max_size=8),
            BLANKS,
            st.tuples(BLANKS, INVISIBLE_BUT_NOT_BLANK, BLANKS).map("".join),
            CONTROLLED,
            JUNK,
        ),
    )


def one_of_or_junk(values: list[Any]) -> Values:
    return st.sampled_from(values), JUNK


# generate-video -----------------------------------------------------------------------------------

VIDEO_BODIES = bodies(
    prompt=texts(2000),
    model=one_of_or_junk([*DEFAULT_MODEL_NAMES, "sora-3", "Sora-2", None]),
    duration=(st.sampled_from([1, 3, 10, 15, 25, 60, None]), st.integers(-1, 62) | JUNK),
    aspect_ratio=one_of_or_junk(["9:16", "16:9", "1:1", "4:3", None]),
    resolution=one_of_or_junk(["720p", "1080p", "480p", None]),
    character_ids=(
        st.lists(st.integers(0, 3), max_size=5),
        st.one_of(st.lists(st.one_of(st.integers(0, 2), JUNK), max_size=3), JUNK),
    ),
    style=one_of_or_junk(["upbeat", "calm", "dramatic", "playful", "Calm", "jazz", None]),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=VIDEO_BODIES)
def test_generate_video_schema_and_parser_agree(apps: dict[str, App], body: Body) -> None:
    app = apps["local"]
    _agree(
        app.validator("/generate-video"),
        body,
        lambda decoded: parse_video_request(decoded, app.container.registry),
    )


# characters -----------------------------------------------------------------------------------

CHARACTER_BODIES = bodies(
    name=texts(50),
    prompt=texts(1000),
    duration=(st.integers(0, 61), st.integers(-1, 62) | JUNK),
    aspect_ratio=one_of_or_junk(["9:16", "16:9", "1:1", "4:3", None]),
)


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=CHARACTER_BODIES)
def test_create_character_schema_and_parser_agree(
    apps: dict[str, App], upstream: str, body: Body
) -> None:
    app = apps[upstream]
    _agree(
        app.validator("/characters"),
        body,
        lambda decoded: parse_character_request(decoded, app.upstream),
    )


FINALIZE_BODIES = bodies(
    # Near the start of the video and near its longest end, so that pairs often make a segment.
    timestamp_start=(st.integers(-1, 5) | st.integers(53, 61), JUNK),
    timestamp_end=(st.integers(0, 8) | st.integers(55, 62), JUNK),
    character_prompt=(
        st.one_of(
            texts(1000)[0], st.integers(995, 1100).map(lambda n: " " * n), st.just("  pose  ")
        ),
        st.one_of(texts(1000)[1], JUNK),
    ),
)


@pytest.mark.parametrize("upstream", list(UPSTREAMS))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=FINALIZE_BODIES)
def test_finalize_schema_and_parser_agree(apps: dict[str, App], upstream: str, body: Body) -> None:
    # The end's bound is the character video's duration, which only the character knows: the
    # schema states the longest a character video can be.
    app = apps[upstream]
    _agree(
        app.validator("/characters/{character_id}/finalize"),
        body,
        lambda decoded: parse_finalize_request(decoded, MAX_CHARACTER_SECONDS, app.upstream),
    )


# analyze ------------------------------------------------------------------------------------------


class _Accepted(Exception):
    """Raised where the service would charge: the body got past its checks."""


class _ChargeNothing:
    async def submit_paid(self, **_: Any) -> int:
        raise _Accepted


def _analysis_parser(app: App) -> Callable[[Body], object]:
    """``AnalysisService.submit`` up to the charge, which never happens."""
    service = AnalysisService(
        app.container.engine,
        app.container.reads,
        _ChargeNothing(),  # type: ignore[arg-type]  # only submit_paid is reached
        app.settings.price_table,
    )
    principal = KeyPrincipal(key_id=1, account_id=1, active=True, rate_limits={})

    def parse(body: Body) -> object:
        try:
            asyncio.run(service.submit(principal, body))
        except _Accepted:
            return body
        raise AssertionError("unreachable: the stub queue refuses every charge")

    return parse


SURROUNDING: Values = (st.just(""), st.sampled_from([" ", "\n", "\u3000 ", "\t"]))
URL_PARTS: dict[str, Values] = {
    "a_space": SURROUNDING,
    "b_scheme": (
        st.sampled_from(["https", "http"]),
        st.sampled_from(["HTTPS", "hTtP", "ftp", "httpſ"]),
    ),
    "c_separator": (st.just("://"), st.sampled_from([":/", "//", ":///"])),
    "d_host": (
        st.sampled_from(sorted(ALLOWED_HOSTS)),
        st.one_of(
            st.sampled_from(sorted(ALLOWED_HOSTS)).map(str.upper),
            st.sampled_from(
                [
                    *("evil.com", "facebook.com.", "facebook.com.evil.com", "user@facebook.com"),
                    *("\u212aacebook.com", "tiktoK.com", "127.0.0.1", "vm.tiktok.co"),
                ]
            ),
        ),
    ),
    "e_port": (st.just(""), st.sampled_from([":443", ":80", ":8080", ":", ":0443", ":443:443"])),
    "f_tail": (
        st.tuples(
            st.sampled_from(["", "/", "?", "#"]), st.text(alphabet="/?#=&a1é%@:.-_", max_size=8)
        ).map("".join),
        st.tuples(
            st.sampled_from(["", "/", "x"]),
            st.text(alphabet="/a\\ \u200b\x00\xa0\ufeff\U000e0001", min_size=1, max_size=3),
        ).map("".join),
    ),
    "g_space": SURROUNDING,
}
URLS = mixed(URL_PARTS, most_odd=1).map(
    lambda parts: "".join(parts[name] for name in sorted(parts))
)
AD_IDS = st.tuples(
    st.sampled_from(["", " ", "\n"]),
    st.text(alphabet="0123456789", min_size=1, max_size=22),
).map("".join)
URL_VALUES: Values = (
    st.one_of(URLS, URLS, AD_IDS),
    st.one_of(
        st.sampled_from(["٣٤٥", "１２３", "+123", "-5", "1e3"]),
        st.integers(2020, 2030).map(lambda n: "https://www.facebook.com/" + "a" * (n - 25)),
        st.sampled_from([0, 1, 123, 2**63, 2**64 - 1, 2**64, 10**20 - 1, 10**20, -5]),
        JUNK,
    ),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies(url=URL_VALUES))
def test_analyze_schema_and_parser_agree(apps: dict[str, App], body: Body) -> None:
    app = apps["local"]
    _agree(app.validator("/analyze"), body, _analysis_parser(app))


# The character classes the patterns are built from --------------------------------------------


def _expand(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {code for first, last in ranges for code in range(first, last + 1)}


def test_character_classes_are_pythons() -> None:
    every = range(0x110000)
    assert _expand(WHITESPACE_RANGES) == {code for code in every if chr(code).isspace()}
    hidden_categories = {"Cc", "Cf", "Zs", "Zl", "Zp"}
    assert _expand(CONTROL_RANGES) == {
        code
        for code in every
        if unicodedata.category(chr(code)) == "Cc" and chr(code) not in "\t\n\r"
    }
    assert _expand(HIDDEN_RANGES) == {
        code
        for code in every
        if chr(code).isspace() or unicodedata.category(chr(code)) in hidden_categories
    }
