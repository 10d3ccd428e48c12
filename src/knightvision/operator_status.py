"""``knightvision status``: what an operator checks first, in one place."""

from __future__ import annotations

import os
import shutil
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.api.metrics import DatabaseSnapshot
from knightvision.preflight import hidden_password, reason
from knightvision.settings import Settings

SERVER_TIMEOUT_SECONDS = 3.0


async def collect_status(
    settings: Settings, engine: AsyncEngine, url: str | None
) -> dict[str, Any]:
    return {
        "server": await _server((url or settings.base_url).rstrip("/")),
        "queue": await _queue(engine),
        "storage": _storage(settings),
        "upstreams": _upstreams(settings),
    }


async def _server(base: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=SERVER_TIMEOUT_SECONDS) as client:
            answer = await client.get(f"{base}/healthz")
        reachable = answer.status_code == 200
        detail = answer.json() if reachable else {}
        return {
            "url": base,
            "reachable": reachable,
            "version": detail.get("version"),
            "error": None if reachable else f"/healthz answered HTTP {answer.status_code}",
        }
    except (httpx.HTTPError, ValueError) as exc:
        return {"url": base, "reachable": False, "version": None, "error": reason(exc)}


async def _queue(engine: AsyncEngine) -> dict[str, Any]:
    """Unfinished jobs by kind: waiting, running, and how long the oldest has waited."""
    snapshot = DatabaseSnapshot()
    await snapshot.read(engine)
    queue: dict[str, dict[str, Any]] = {}
    for kind, state, count in snapshot.jobs:
        queue.setdefault(kind, {"queued": 0, "running": 0, "oldest_queued_seconds": None})
        queue[kind][state] = count
    for kind, seconds in snapshot.oldest.items():
        queue[kind]["oldest_queued_seconds"] = round(seconds, 1)
    return queue


def _storage(settings: Settings) -> dict[str, Any]:
    root = settings.media_root
    exists = root.is_dir()
    return {
        "path": str(root),
        "exists": exists,
        "writable": exists and os.access(root, os.W_OK),
        "free_bytes": shutil.disk_usage(root).free if exists else None,
    }


def _upstreams(settings: Settings) -> dict[str, Any]:
    """Each public model's adapter and whether it has what it needs to run; the other services."""
    from knightvision.video.upstreams import build_model_registry, build_video_adapters

    adapters = build_video_adapters(settings)
    models = {}
    for model in build_model_registry(settings).models():
        adapter = adapters.get(model.adapter)
        ready = adapter is not None and adapter.available()
        models[model.name] = f"{model.adapter} ({'ready' if ready else 'not configured'})"
    return {
        "video_models": models,
        "language_model": settings.llm_base_url,
        "transcription": settings.transcription,
        "redis": hidden_password(settings.redis_url) if settings.redis_url else None,
    }
