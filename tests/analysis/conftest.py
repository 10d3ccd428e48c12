"""Fixtures shared by the analysis tests."""

from __future__ import annotations

import pytest

from tests.fixtures import clips


@pytest.fixture(scope="module")
def ad() -> clips.MeasuredAd:
    """A rendered ad with known captions and speech, measured once per module."""
    return clips.measured_ad()
