"""The ``analysis.run`` job's params: written at submit, read by the pipeline and the views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

from knightvision.providers.ad_source.urls import Platform


class AnalysisJobParams(TypedDict):
    url: str  # the canonical ad URL the pipeline fetches
    platform: Platform
    canonical_key: str | None
    submitted_url: str  # what the partner sent, shown back in the status
    # Submitted with a test-mode key: the bundled sample ad stands in for the ad, and the report
    # is written offline.
    test_mode: NotRequired[bool]


def analysis_params(stored: Mapping[str, Any]) -> AnalysisJobParams:
    """A stored job's params, as ``AnalysisService.submit`` wrote them."""
    return cast(AnalysisJobParams, stored)
