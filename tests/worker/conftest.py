"""The worker tests hold a claimed job while they render and store real files."""

from __future__ import annotations

import pytest


@pytest.fixture
def queue_lease_seconds() -> float:
    return 5
