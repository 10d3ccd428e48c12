"""Renderer test fixtures: one piper voice shared by the whole session."""

from __future__ import annotations

import pytest

from knightvision.render import Voice, load_voice


@pytest.fixture(scope="session")
def voice() -> Voice:
    """The bundled piper voice, loaded once (loading is the slow part)."""
    return load_voice()
