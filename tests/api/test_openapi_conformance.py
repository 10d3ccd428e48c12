"""The OpenAPI document is exact: Schemathesis generates requests from it (valid ones, with a real
key) against a real server on loopback and checks every reply against it: no server error, only
documented statuses, bodies and headers as described."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import schemathesis.checks
from hypothesis import HealthCheck, settings

from knightvision.db.migrate import upgrade
from knightvision.settings import Settings
from tests.fixtures.databases import database_url
from tests.fixtures.processes import Deployment

# Every limit far above what the run sends, so replies show the endpoints, not only their 429s.
LIMITS = [
    f"{bucket}=1000000"
    for bucket in (
        "analyze",
        "status",
        "credits",
        "generate_video",
        "video_status",
        "videos",
        "analyses",
        "estimate",
        "characters",
        "character",
        "character_finalize",
        "webhooks",
        "events",
    )
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("conformance")
    backend = os.environ.get("KNIGHTVISION_TEST_BACKEND", "sqlite")
    with database_url("postgresql" if backend == "postgresql" else "sqlite", tmp) as url:
        upgrade(Settings(database_url=url).async_database_url)
        deployment = Deployment(
            tmp / "data",
            url,
            KNIGHTVISION_AUTH_FAILURES_PER_MINUTE="1000000",
            KNIGHTVISION_STATIC_MISSES_PER_MINUTE="1000000",
            # Every model available (no worker runs, so no upstream is ever called): a 500
            # "Video generation not available" is documented but would hide the rest.
            KNIGHTVISION_EVOLINK_API_KEY="unused",
            KNIGHTVISION_KIE_API_KEY="unused",
            KNIGHTVISION_OPENAI_API_KEY="unused",
            KNIGHTVISION_KLING_ACCESS_KEY="unused",
            KNIGHTVISION_KLING_SECRET_KEY="unused",
        )
        account = deployment.cli("accounts", "create", "conformance", "--credits", "100000000")
        deployment.cli(
            "keys",
            "limits",
            account["key_prefix"],
            *[part for limit in LIMITS for part in ("--set", limit)],
        )
        with deployment.server("--no-workers"):
            yield {"base": deployment.base, "key": account["api_key"]}


@pytest.fixture(scope="module")
def api_schema(served: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{served['base']}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_reply_is_what_the_document_says(case: Any, served: dict[str, Any]) -> None:
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {served['key']}"
    # Two checks do not fit the contract and are left out: valid by the schema is not always
    # valid by the contract (an ad URL of another site, a duration another model has: documented
    # 400s), and unknown fields and query parameters are ignored, never refused (D4a).
    case.call_and_validate(
        base_url=served["base"],
        headers=headers,
        excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
        ],
    )
