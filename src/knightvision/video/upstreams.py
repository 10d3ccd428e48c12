"""Which upstream serves each public model is configuration (D15, D21), checked here.

``settings.models`` maps a public model name to ``{adapter, upstream_model}``; names it omits keep
the defaults (every Sora and Kling name on EvoLink, ``local-storyboard`` on our renderer). The
composition root builds the registry and the adapters from here:

- ``build_model_registry(settings)``: the public models with their upstreams applied; a table that
  cannot be used stops the start with one message naming ``KNIGHTVISION_MODELS``;
- ``build_video_adapters(settings, http_client_factory=...)``: one adapter per upstream service,
  each ``available()`` only with its credentials, so an unconfigured upstream answers 500 "Video
  generation not available" with nothing charged;
- ``upstream_refusal(model, request)``: a request the upstream cannot deliver exactly (not natively
  and not by a declared transform), or a prompt over the upstream's own limit, refused before any
  charge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from knightvision.adapter_names import AdapterName
from knightvision.errors import BadRequestError, GenerationUnavailableError, KVError
from knightvision.media.shapes import ASPECT_RATIOS
from knightvision.providers.video_model.capabilities import UpstreamCapabilities, plan_render
from knightvision.providers.video_model.catalogue import (
    CATALOGUES,
    DEFAULT_UPSTREAM,
    LOCAL_STORYBOARD,
)
from knightvision.settings import ModelUpstream, Settings, invalid_setting
from knightvision.video.models import DEFAULT_MODELS, ModelRegistry, VideoModel

if TYPE_CHECKING:
    import httpx

    from knightvision.providers.video_model.port import VideoModelAdapter
    from knightvision.providers.video_model.upstream_http import UpstreamPolicy
    from knightvision.video.validation import VideoRequest

# Adapters without an upstream model of their own choosing: nothing to resolve.
_FIXED = (AdapterName.DISABLED, AdapterName.LOCAL_STORYBOARD)


def upstream_capabilities(adapter: str, upstream_model: str | None) -> UpstreamCapabilities | None:
    """What an upstream renders natively; None for a disabled or unknown one."""
    if adapter == AdapterName.LOCAL_STORYBOARD:
        return LOCAL_STORYBOARD[AdapterName.LOCAL_STORYBOARD]
    return CATALOGUES.get(adapter, {}).get(upstream_model or "")


def _resolve(model: VideoModel, upstream: ModelUpstream) -> tuple[AdapterName, str | None]:
    if upstream.adapter in _FIXED:
        return upstream.adapter, None
    return upstream.adapter, upstream.upstream_model or DEFAULT_UPSTREAM.get(
        upstream.adapter, {}
    ).get(model.name)


def model_upstream_problems(upstreams: Mapping[str, ModelUpstream]) -> list[str]:
    """Why a table of model upstreams cannot be used, one message per model (empty when fine)."""
    defaults = {model.name: model for model in DEFAULT_MODELS}
    problems: list[str] = []
    for name, upstream in upstreams.items():
        model = defaults.get(name)
        if model is None:
            problems.append(f"unknown model {name!r}; known: {sorted(defaults)}")
            continue
        if upstream.adapter == AdapterName.DISABLED:
            continue
        adapter, upstream_model = _resolve(model, upstream)
        if upstream_model is None and adapter != AdapterName.LOCAL_STORYBOARD:
            known = sorted(CATALOGUES[adapter])
            problems.append(
                f"{name}: {adapter} has no default model for it; set upstream_model (one of "
                f"{known})"
            )
            continue
        caps = upstream_capabilities(adapter, upstream_model)
        if caps is None:
            problems.append(
                f"{name}: {adapter} does not know upstream model {upstream_model!r}; known: "
                f"{sorted(CATALOGUES[adapter])}"
            )
            continue
        if not any(
            plan_render(caps, duration, aspect, resolution) is not None
            for duration in model.durations
            for aspect in ASPECT_RATIOS
            for resolution in model.resolutions
        ):
            problems.append(
                f"{name}: {adapter} {upstream_model} cannot render any shape {name} offers"
            )
    return problems


def build_model_registry(settings: Settings) -> ModelRegistry:
    """The public models (D15) with the operator's upstreams applied.

    Raises ``OperatorError`` naming ``KNIGHTVISION_MODELS`` when the table cannot be used."""
    problems = model_upstream_problems(settings.models)
    if problems:
        raise invalid_setting("models", problems)
    models: list[VideoModel] = []
    for model in DEFAULT_MODELS:
        upstream = settings.models.get(model.name)
        if upstream is not None:
            adapter, upstream_model = _resolve(model, upstream)
            model = replace(model, adapter=adapter, upstream_model=upstream_model)
        models.append(model)
    return ModelRegistry(tuple(models))


def upstream_policy(settings: Settings) -> UpstreamPolicy:
    from knightvision.providers.video_model.upstream_http import UpstreamPolicy

    return UpstreamPolicy(
        poll_initial=settings.upstream_poll_interval_seconds,
        poll_max=max(
            settings.upstream_poll_interval_seconds, settings.upstream_poll_max_interval_seconds
        ),
        timeout=settings.upstream_timeout_seconds,
        request_timeout=settings.upstream_request_timeout_seconds,
    )


def build_video_adapters(
    settings: Settings,
    http_client_factory: Callable[[], httpx.AsyncClient] | None = None,
    **adapter_options: Any,
) -> dict[str, VideoModelAdapter]:
    """Every adapter, keyed by its name. ``disabled`` is deliberately absent."""
    # Imported here: building settings must not pay for HTTP clients and PyAV.
    from knightvision.providers.video_model.evolink import EvoLinkAdapter
    from knightvision.providers.video_model.kie import KieAdapter
    from knightvision.providers.video_model.kling import KlingAdapter
    from knightvision.providers.video_model.local_storyboard import (
        LocalStoryboardAdapter,
    )
    from knightvision.providers.video_model.openai_videos import OpenAIVideosAdapter
    from knightvision.providers.video_model.upstream_http import (
        default_http_client_factory,
    )

    policy = adapter_options.pop("policy", None) or upstream_policy(settings)
    common: dict[str, Any] = {
        "policy": policy,
        "http_client_factory": http_client_factory or default_http_client_factory(policy),
        **adapter_options,
    }
    return {
        AdapterName.LOCAL_STORYBOARD: LocalStoryboardAdapter(settings.voice_model),
        AdapterName.EVOLINK: EvoLinkAdapter(
            settings.evolink_api_key, base_url=settings.evolink_base_url, **common
        ),
        AdapterName.KIE: KieAdapter(settings.kie_api_key, base_url=settings.kie_base_url, **common),
        AdapterName.OPENAI: OpenAIVideosAdapter(
            settings.openai_api_key, base_url=settings.openai_base_url, **common
        ),
        AdapterName.KLING: KlingAdapter(
            settings.kling_access_key,
            settings.kling_secret_key,
            base_url=settings.kling_base_url,
            **common,
        ),
    }


def upstream_refusal(model: VideoModel, request: VideoRequest) -> KVError | None:
    """Why this request cannot be delivered exactly on the model's upstream, before any charge.

    A prompt over the upstream's own limit is a 400 (``prompt_too_long``); a shape the upstream
    lacks and cannot reach by a declared transform, a disabled model, or characters on an upstream
    without them, is 500 "Video generation not available" (D15). None when it can deliver it.
    """
    caps = upstream_capabilities(model.adapter, model.upstream_model)
    if model.adapter == AdapterName.DISABLED or caps is None:
        return GenerationUnavailableError()
    if len(request.prompt) > caps.max_prompt_chars:
        return BadRequestError(
            f"Prompt must be {caps.max_prompt_chars} characters or less for this model",
            code="prompt_too_long",
        )
    if request.character_ids and not caps.characters:
        return GenerationUnavailableError()
    if plan_render(caps, request.duration, request.aspect_ratio, request.resolution) is None:
        return GenerationUnavailableError()
    return None


def upstream_table(registry: ModelRegistry) -> list[dict[str, Any]]:
    """Each public model's upstream and what it delivers natively or by transform (docs, CLIs)."""
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        model = registry.get(name)
        assert model is not None
        caps = upstream_capabilities(model.adapter, model.upstream_model)
        row: dict[str, Any] = {
            "model": name,
            "adapter": model.adapter,
            "upstream_model": model.upstream_model,
        }
        if caps is not None:
            shapes = {}
            for duration in model.durations:
                for aspect in ASPECT_RATIOS:
                    for resolution in model.resolutions:
                        plan = plan_render(caps, duration, aspect, resolution)
                        shapes[f"{duration}s {aspect} {resolution}"] = (
                            list(plan.transforms) if plan else None
                        )
            row["shapes"] = shapes
        rows.append(row)
    return rows
