"""Helpers for the upstream adapter tests: a job-run test double, quick policies, shape checks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from knightvision.media.probe import MediaInfo, probe
from knightvision.providers.video_model.evolink import EvoLinkAdapter
from knightvision.providers.video_model.kie import KieAdapter
from knightvision.providers.video_model.kling import KlingAdapter
from knightvision.providers.video_model.openai_videos import OpenAIVideosAdapter
from knightvision.providers.video_model.port import GenerationError, GenerationSpec
from knightvision.providers.video_model.upstream_http import UpstreamPolicy
from knightvision.video.models import FRAME_SIZES
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.kling import FakeKling
from tests.fakes.openai_videos import FakeOpenAIVideos

# Quick timings: polls every few milliseconds, a short overall cap, short HTTP timeouts.
FAST = UpstreamPolicy(
    poll_initial=0.01,
    poll_max=0.03,
    poll_factor=1.5,
    timeout=20.0,
    request_timeout=2.0,
    max_rate_limit_wait=0.05,
    transient_poll_errors=2,
    malformed_polls=1,
    create_rate_limit_retries=2,
)


class MemoryRun:
    """Test double of the running job (``GenerationRun``): remembered values live in a dict,
    JSON round-tripped as the job checkpoint stores them."""

    def __init__(self, memory: dict[str, Any] | None = None) -> None:
        self.memory: dict[str, Any] = memory if memory is not None else {}
        self.fractions: list[float] = []
        self.remembered: asyncio.Event = asyncio.Event()

    def progress(self, fraction: float) -> None:
        self.fractions.append(fraction)

    def recall(self, name: str) -> Any:
        return self.memory.get(name)

    async def remember(self, name: str, value: Any) -> None:
        self.memory[name] = json.loads(json.dumps(value))
        if name == "upstream_task" and value:
            self.remembered.set()


class RecordingSleep:
    """Records every wait an adapter asks for, and sleeps only briefly."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.01))


def spec(
    upstream_model: str,
    duration: int,
    aspect_ratio: str = "9:16",
    resolution: str = "720p",
    *,
    prompt: str = "A paper boat crossing a puddle",
    job_id: str | None = "sora_20260323_141500_abc123",
) -> GenerationSpec:
    width, height = FRAME_SIZES[(resolution, aspect_ratio)]
    return GenerationSpec(
        prompt=prompt,
        duration=duration,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        upstream_model=upstream_model,
        job_id=job_id,
    )


def assert_shape(path: Path, s: GenerationSpec) -> MediaInfo:
    """What the pipeline verifies: exact WxH, duration within 0.1 s."""
    info = probe(path)
    assert (info.width, info.height) == (s.width, s.height)
    assert abs(info.duration - s.duration) <= 0.1, info.duration
    return info


async def failure(coro: Any) -> GenerationError:
    with pytest.raises(GenerationError) as caught:
        await coro
    return caught.value


def short_timeout_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(0.3), follow_redirects=True)


def evolink_adapter(fake: FakeEvoLink, **options: Any) -> EvoLinkAdapter:
    return EvoLinkAdapter(
        options.pop("api_key", fake.api_key),
        base_url=fake.url,
        policy=options.pop("policy", FAST),
        **options,
    )


def kie_adapter(fake: FakeKie, **options: Any) -> KieAdapter:
    return KieAdapter(
        options.pop("api_key", fake.api_key),
        base_url=fake.url,
        policy=options.pop("policy", FAST),
        **options,
    )


def openai_adapter(fake: FakeOpenAIVideos, **options: Any) -> OpenAIVideosAdapter:
    return OpenAIVideosAdapter(
        options.pop("api_key", fake.api_key),
        base_url=fake.base_url,
        policy=options.pop("policy", FAST),
        **options,
    )


def kling_adapter(fake: FakeKling, **options: Any) -> KlingAdapter:
    return KlingAdapter(
        options.pop("access_key", fake.access_key),
        options.pop("secret_key", fake.secret_key),
        base_url=fake.url,
        policy=options.pop("policy", FAST),
        **options,
    )
