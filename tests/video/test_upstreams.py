"""Model upstreams are configuration (D15, D21): re-point, disable, credentials, refusals before
any charge, and the real video pipeline delivering exactly the asked shape through an upstream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from knightvision.errors import (
    BadRequestError,
    GenerationUnavailableError,
    OperatorError,
)
from knightvision.job.errors import JobFailure
from knightvision.media.shapes import FRAME_SIZES
from knightvision.providers.storage.local import LocalStorage
from knightvision.settings import Settings, load_settings
from knightvision.video.models import DEFAULT_MODELS
from knightvision.video.pipeline import make_video_handler
from knightvision.video.upstreams import (
    build_model_registry,
    build_video_adapters,
    upstream_refusal,
    upstream_table,
)
from knightvision.video.validation import parse_video_request
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fixtures.video_models import FAST


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("KNIGHTVISION_"):
            monkeypatch.delenv(name)


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **overrides)


def test_defaults_put_every_sora_and_kling_name_on_evolink(tmp_path: Path) -> None:
    registry = build_model_registry(settings(tmp_path))
    upstreams = {
        name: (registry.get(name).adapter, registry.get(name).upstream_model)
        for name in registry.names()
    }  # type: ignore[union-attr]
    assert upstreams == {
        "sora-2": ("evolink", "sora-2"),
        "sora-2-pro": ("evolink", "sora-2-pro"),
        "kling-v3-text-to-video": ("evolink", "kling-v3-text-to-video"),
        "kling-o3-text-to-video": ("evolink", "kling-o3-text-to-video"),
        "local-storyboard": ("local-storyboard", None),
    }
    adapters = build_video_adapters(settings(tmp_path))
    assert set(adapters) == {"evolink", "kie", "openai", "kling", "local-storyboard"}
    # A fresh install: no upstream credentials, so every upstream model answers "not available".
    assert {name: adapter.available() for name, adapter in adapters.items()} == {
        "evolink": False,
        "kie": False,
        "openai": False,
        "kling": False,
        "local-storyboard": True,
    }


def test_credentials_make_an_adapter_available(tmp_path: Path) -> None:
    adapters = build_video_adapters(
        settings(
            tmp_path,
            evolink_api_key="k",
            kie_api_key="k",
            openai_api_key="k",
            kling_access_key="a",
            kling_secret_key="s",
        )
    )
    assert all(adapter.available() for adapter in adapters.values())


def test_upstreams_from_toml_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "knightvision.toml").write_text(
        '[models.sora-2]\nadapter = "kie"\n\n[models.sora-2-pro]\nadapter = "kie"\n\n'
        '[models.kling-v3-text-to-video]\nadapter = "kling"\nupstream_model = "kling-v2-6"\n'
    )
    registry = build_model_registry(settings(tmp_path))
    assert (registry.get("sora-2").adapter, registry.get("sora-2").upstream_model) == (
        "kie",
        "sora-2-text-to-video",
    )  # type: ignore[union-attr]
    assert registry.get("sora-2-pro").adapter == "kie"  # type: ignore[union-attr]
    assert registry.get("kling-v3-text-to-video").upstream_model == "kling-v2-6"  # type: ignore[union-attr]

    monkeypatch.setenv(
        "KNIGHTVISION_MODELS", json.dumps({"kling-o3-text-to-video": {"adapter": "disabled"}})
    )
    registry = build_model_registry(settings(tmp_path))
    assert registry.get("kling-o3-text-to-video").adapter == "disabled"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("upstreams", "fragment"),
    [
        ({"sora-3": {"adapter": "kie"}}, "unknown model 'sora-3'"),
        (
            {"sora-2": {"adapter": "kie", "upstream_model": "veo-3"}},
            "kie does not know upstream model 'veo-3'",
        ),
        ({"kling-o3-text-to-video": {"adapter": "kie"}}, "set upstream_model"),
        # OpenAI's spec renders 4/8/12 s: none of sora-2-pro's 15/25 s, even by trimming.
        ({"sora-2-pro": {"adapter": "openai"}}, "cannot render any shape sora-2-pro offers"),
        (
            {
                "sora-2": {
                    "adapter": "evolink",
                    "upstream_model": "kling-v3-text-to-video",
                    "extra": 1,
                }
            },
            "KNIGHTVISION_MODELS",
        ),
        ({"sora-2": {"adapter": "somewhere"}}, "KNIGHTVISION_MODELS"),
    ],
)
def test_bad_upstreams_stop_the_start_naming_the_setting(
    tmp_path: Path, upstreams: dict, fragment: str
) -> None:
    # Shape errors stop load_settings; pairings the catalogues refuse stop the registry's build.
    with pytest.raises(OperatorError) as caught:
        build_model_registry(settings(tmp_path, models=upstreams))
    assert "KNIGHTVISION_MODELS" in str(caught.value) and fragment in str(caught.value)


def request(registry: Any, **body: Any) -> Any:
    return parse_video_request({"prompt": "A lighthouse at dusk", **body}, registry)


def test_upstream_refusals_happen_before_any_charge(tmp_path: Path) -> None:
    registry = build_model_registry(
        settings(
            tmp_path,
            models={
                "sora-2": {"adapter": "openai"},
                "kling-o3-text-to-video": {"adapter": "disabled"},
            },
        )
    )
    sora = registry.get("sora-2")
    assert (
        upstream_refusal(sora, request(registry, model="sora-2", aspect_ratio="1:1")) is None
    )  # crop is declared
    assert (
        upstream_refusal(sora, request(registry, model="sora-2", duration=10)) is None
    )  # 12 s trimmed
    # OpenAI's spec has no 16 s: refused here, before the charge, not by the upstream after it.
    fifteen = upstream_refusal(sora, request(registry, model="sora-2", duration=15))
    assert isinstance(fifteen, GenerationUnavailableError)

    evolink = build_model_registry(settings(tmp_path)).get("sora-2")
    too_long = upstream_refusal(evolink, request(registry, model="sora-2", prompt="x" * 1500))
    assert isinstance(too_long, BadRequestError) and too_long.code == "prompt_too_long"
    assert too_long.message == "Prompt must be 1000 characters or less for this model"

    o3 = registry.get("kling-o3-text-to-video")
    refusal = upstream_refusal(o3, request(registry, model="kling-o3-text-to-video", duration=5))
    assert isinstance(refusal, GenerationUnavailableError) and refusal.status == 500
    assert refusal.message == "Video generation not available"

    local = registry.get("local-storyboard")
    assert (
        upstream_refusal(
            local, request(registry, model="local-storyboard", duration=60, aspect_ratio="1:1")
        )
        is None
    )


def test_every_default_upstream_delivers_every_contract_shape(tmp_path: Path) -> None:
    for row in upstream_table(build_model_registry(settings(tmp_path))):
        assert all(transforms is not None for transforms in row["shapes"].values()), row


class _Context:
    """Stand-in for the worker's JobContext: what the video pipeline reads and writes."""

    def __init__(self, job_id: str, params: dict[str, Any]) -> None:
        self.job = SimpleNamespace(id=job_id)
        self.params = params
        self.checkpoint: dict[str, Any] = {}
        self.reports: list[dict[str, Any]] = []
        self.parks = False  # run outside a worker: upstream waits sleep in place

    async def report(self, **visible: Any) -> None:
        self.reports.append(visible)

    def progress_from_thread(self, fraction: float) -> None:
        pass

    async def save_checkpoint(self, **outputs: Any) -> None:
        self.checkpoint = json.loads(json.dumps({**self.checkpoint, **outputs}))


def job_params(
    registry: Any, model: str, duration: int, aspect: str, resolution: str = "720p"
) -> dict[str, Any]:
    chosen = registry.get(model)
    width, height = FRAME_SIZES[(resolution, aspect)]
    return {
        "prompt": "A lighthouse at dusk",
        "model": model,
        "duration": duration,
        "aspect_ratio": aspect,
        "resolution": resolution,
        "width": width,
        "height": height,
        "adapter": chosen.adapter,
        "upstream_model": chosen.upstream_model,
    }


async def test_sora_2_re_pointed_to_kie_runs_through_the_real_pipeline(
    kie: FakeKie, evolink: FakeEvoLink, tmp_path: Path
) -> None:
    config = settings(
        tmp_path,
        models={"sora-2": {"adapter": "kie"}},
        kie_api_key=kie.api_key,
        kie_base_url=kie.url,
        evolink_api_key=evolink.api_key,
        evolink_base_url=evolink.url,
    )
    registry = build_model_registry(config)
    adapters = build_video_adapters(config, policy=FAST)
    storage = LocalStorage(tmp_path / "media")
    handler = make_video_handler(adapters, storage)
    kie.script.polls_to_finish = 1

    context = _Context("sora_20260323_141500_abc123", job_params(registry, "sora-2", 10, "1:1"))
    result = await handler(context)  # type: ignore[arg-type]

    assert kie.tasks_created == 1 and evolink.create_calls == 0
    assert (result["width"], result["height"]) == (720, 720) and abs(result["duration"] - 10) <= 0.1
    assert result["provenance"]["adapter"] == "kie"
    assert result["provenance"]["transforms"] == ["crop 1280x720 to centre 720x720"]
    assert (
        context.checkpoint["adapter.upstream_task"]["task_id"]
        == result["provenance"]["upstream_task_id"]
    )
    assert storage.local_path("videos/sora_20260323_141500_abc123.mp4") is not None


async def test_pipeline_restart_resumes_the_remembered_task(
    evolink: FakeEvoLink, tmp_path: Path
) -> None:
    config = settings(tmp_path, evolink_api_key=evolink.api_key, evolink_base_url=evolink.url)
    registry = build_model_registry(config)
    storage = LocalStorage(tmp_path / "media")
    context = _Context(
        "kling_20260327_101010_k1k1k1", job_params(registry, "kling-v3-text-to-video", 3, "9:16")
    )
    evolink.script.never_finish = True

    first = asyncio.create_task(
        make_video_handler(build_video_adapters(config, policy=FAST), storage)(context)
    )  # type: ignore[arg-type]
    # The fake counts polls on its own server thread; there is no event to await.
    while "adapter.upstream_task" not in context.checkpoint or evolink.poll_calls < 1:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first

    evolink.script.never_finish = False
    evolink.script.polls_to_finish = 0
    result = await make_video_handler(build_video_adapters(config, policy=FAST), storage)(context)  # type: ignore[arg-type]
    assert evolink.create_calls == 1 and result["provenance"]["resumed"] is True
    assert (result["width"], result["height"]) == (720, 1280)


async def test_pipeline_turns_upstream_errors_into_job_failures(
    evolink: FakeEvoLink, tmp_path: Path
) -> None:
    config = settings(tmp_path, evolink_api_key=evolink.api_key, evolink_base_url=evolink.url)
    registry = build_model_registry(config)
    evolink.script.polls_to_finish = 0
    evolink.script.outcome = "failed"
    evolink.script.failure = {
        "code": "content_policy_violation",
        "message": "blocked by safety filters",
    }
    handler = make_video_handler(
        build_video_adapters(config, policy=FAST), LocalStorage(tmp_path / "media")
    )
    with pytest.raises(JobFailure) as caught:
        await handler(
            _Context("sora_20260323_141500_zzz999", job_params(registry, "sora-2", 15, "16:9"))
        )  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.retryable, caught.value.stage) == (
        "moderation_blocked",
        False,
        "generating",
    )


def test_registry_keeps_prices_durations_and_families(tmp_path: Path) -> None:
    registry = build_model_registry(settings(tmp_path, models={"sora-2": {"adapter": "openai"}}))
    default = {model.name: model for model in DEFAULT_MODELS}
    sora = registry.get("sora-2")
    assert sora is not None and sora.adapter == "openai"
    assert (sora.durations, sora.family, sora.fixed_price_names) == (
        default["sora-2"].durations,
        "sora",
        default["sora-2"].fixed_price_names,
    )
