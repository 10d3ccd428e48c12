"""Model routing is configuration (D15, D21): which adapter serves each public model, and how.

``settings.models`` maps a public model name to ``{adapter, upstream_model}``; names it omits keep
the defaults (every Sora and Kling name on EvoLink, ``local-storyboard`` on our renderer). The
composition root builds the registry and the adapters from here:

- ``build_model_registry(settings)``: the public models with their routes applied;
- ``build_video_adapters(settings, http_client_factory=...)``: one adapter per upstream, each
  ``available()`` only with its credentials, so an unconfigured route answers 500 "Video
  generation not available" with nothing charged;
- ``route_refusal(model, request)``: a request the route cannot deliver exactly (not natively and
  not by a declared transform), or a prompt over the route's own limit, refused before any charge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from knightvision.errors import BadRequestError, GenerationUnavailableError, KVError
from knightvision.providers.video_model.capabilities import (
    RouteCapabilities,
    plan_render,
)
from knightvision.providers.video_model.catalogue import (
    ADAPTER_NAMES,
    CATALOGUES,
    DEFAULT_UPSTREAM,
    LOCAL_STORYBOARD,
)
from knightvision.video.models import (
    ASPECT_RATIOS,
    DEFAULT_MODELS,
    ModelRegistry,
    VideoModel,
)

if TYPE_CHECKING:
    import httpx

    from knightvision.providers.video_model.port import VideoModelAdapter
    from knightvision.providers.video_model.upstream_http import UpstreamPolicy
    from knightvision.settings import ModelRoute, Settings
    from knightvision.video.validation import VideoRequest

DISABLED = "disabled"
LOCAL = "local-storyboard"


def route_capabilities(adapter: str, upstream_model: str | None) -> RouteCapabilities | None:
    """What a route renders natively; None for a disabled or unknown route."""
    if adapter == LOCAL:
        return LOCAL_STORYBOARD[LOCAL]
    return CATALOGUES.get(adapter, {}).get(upstream_model or "")


def _resolve(model: VideoModel, route: ModelRoute) -> tuple[str, str | None]:
    if route.adapter in (DISABLED, LOCAL):
        return route.adapter, None
    return route.adapter, route.upstream_model or DEFAULT_UPSTREAM.get(route.adapter, {}).get(
        model.name
    )


def route_problems(routes: Mapping[str, ModelRoute]) -> list[str]:
    """Why a routing table cannot be used, one message per route (empty when it is fine)."""
    defaults = {model.name: model for model in DEFAULT_MODELS}
    problems: list[str] = []
    for name, route in routes.items():
        model = defaults.get(name)
        if model is None:
            problems.append(f"unknown model {name!r}; known: {sorted(defaults)}")
            continue
        if route.adapter not in ADAPTER_NAMES:
            problems.append(f"{name}: unknown adapter {route.adapter!r}")
            continue
        if route.adapter == DISABLED:
            continue
        adapter, upstream = _resolve(model, route)
        if upstream is None and adapter != LOCAL:
            known = sorted(CATALOGUES[adapter])
            problems.append(
                f"{name}: {adapter} has no default model for it; set upstream_model (one of {known})"
            )
            continue
        caps = route_capabilities(adapter, upstream)
        if caps is None:
            problems.append(
                f"{name}: {adapter} does not know upstream model {upstream!r}; known: {sorted(CATALOGUES[adapter])}"
            )
            continue
        if not any(
            plan_render(caps, duration, aspect, resolution) is not None
            for duration in model.durations
            for aspect in ASPECT_RATIOS
            for resolution in model.resolutions
        ):
            problems.append(f"{name}: {adapter} {upstream} cannot render any shape {name} offers")
    return problems


def build_model_registry(settings: Settings) -> ModelRegistry:
    """The public models (D15) with the operator's routes applied."""
    models: list[VideoModel] = []
    for model in DEFAULT_MODELS:
        route = settings.models.get(model.name)
        if route is not None:
            adapter, upstream = _resolve(model, route)
            model = replace(model, adapter=adapter, upstream_model=upstream)
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
    """Every adapter, keyed by the name routes use. ``disabled`` is deliberately absent."""
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
        LOCAL: LocalStoryboardAdapter(settings.voice_model),
        "evolink": EvoLinkAdapter(
            settings.evolink_api_key, base_url=settings.evolink_base_url, **common
        ),
        "kie": KieAdapter(settings.kie_api_key, base_url=settings.kie_base_url, **common),
        "openai": OpenAIVideosAdapter(
            settings.openai_api_key, base_url=settings.openai_base_url, **common
        ),
        "kling": KlingAdapter(
            settings.kling_access_key,
            settings.kling_secret_key,
            base_url=settings.kling_base_url,
            **common,
        ),
    }


def route_refusal(model: VideoModel, request: VideoRequest) -> KVError | None:
    """Why this request cannot be delivered exactly on the model's route, before any charge (D15).

    A prompt over the route's own limit is a 400 (``prompt_too_long``); a shape the route lacks
    and cannot reach by a declared transform, a disabled route, or characters on a route without
    them, is 500 "Video generation not available". None when the route can deliver it.
    """
    caps = route_capabilities(model.adapter, model.upstream_model)
    if model.adapter == DISABLED or caps is None:
        return GenerationUnavailableError()
    if len(request.prompt) > caps.max_prompt_chars:
        return BadRequestError(
            f"Prompt must be {caps.max_prompt_chars} characters or less for this model",
            code="prompt_too_long",
        )
    if getattr(request, "character_ids", None) and not caps.characters:
        return GenerationUnavailableError()
    if plan_render(caps, request.duration, request.aspect_ratio, request.resolution) is None:
        return GenerationUnavailableError()
    return None


def route_table(registry: ModelRegistry) -> list[dict[str, Any]]:
    """Each public model's route and what it delivers natively or by transform (for docs and CLIs)."""
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        model = registry.get(name)
        assert model is not None
        caps = route_capabilities(model.adapter, model.upstream_model)
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
