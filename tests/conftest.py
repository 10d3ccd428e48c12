"""Test-session setup: offline model hubs, and the shared fixtures of ``tests.fixtures``."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Helpers with assertions report their operands as test modules do.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.harness",
    "tests.fixtures.job_queue",
    "tests.fixtures.object_storage",
    "tests.fixtures.outages",
    "tests.fixtures.upstreams",
]
