"""The ``video.generate`` job: render on the model's adapter, verify the file, store it permanently."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from knightvision.job.errors import JobFailure
from knightvision.media.probe import probe
from knightvision.providers.storage.port import MediaStorage
from knightvision.providers.video_model.port import (
    CharacterRef,
    GenerationError,
    GenerationSpec,
    VideoModelAdapter,
)
from knightvision.worker.context import JobContext
from knightvision.worker.runner import JobHandler

DURATION_TOLERANCE = 0.1
LOCAL_ADAPTER = "local-storyboard"


def video_key(job_id: str) -> str:
    return f"videos/{job_id}.mp4"


def make_video_handler(adapters: dict[str, VideoModelAdapter], storage: MediaStorage) -> JobHandler:
    async def generate_video(context: JobContext) -> dict[str, Any]:
        params = context.params
        if "stored" in context.checkpoint and storage.local_path(video_key(context.job.id)):
            return context.checkpoint["stored"]
        await context.report(status="processing", message="Generating video...", progress=5)
        adapter = adapters.get(params["adapter"])
        if adapter is None or not adapter.available():
            raise JobFailure(
                "generation_unavailable", "Video generation not available", stage="generating"
            )
        characters = params.get("characters") or []
        spec = GenerationSpec(
            prompt=params.get("render_prompt") or params["prompt"],
            duration=params["duration"],
            width=params["width"],
            height=params["height"],
            aspect_ratio=params["aspect_ratio"],
            resolution=params["resolution"],
            upstream_model=params.get("upstream_model"),
            job_id=context.job.id,
            reference_images=_reference_images(characters, storage)
            if params["adapter"] == LOCAL_ADAPTER
            else (),
            characters=tuple(
                CharacterRef(upstream_id=c["upstream_id"], handle=c.get("handle"), name=c["name"])
                for c in characters
                if c.get("upstream_id") and params["adapter"] != LOCAL_ADAPTER
            ),
        )
        with tempfile.TemporaryDirectory(dir=storage.scratch_dir()) as scratch:
            output = Path(scratch) / f"{context.job.id}.mp4"
            try:
                provenance = await adapter.generate(spec, output, JobRun(context))
            except GenerationError as exc:
                raise JobFailure(
                    exc.code, exc.message, retryable=exc.retryable, stage="generating"
                ) from exc
            await context.report(message="Storing video...", progress=96)
            info = await asyncio.to_thread(probe, output)
            _verify_shape(info.width, info.height, info.duration, spec)
            size = await asyncio.to_thread(storage.put_file, video_key(context.job.id), output)
        result = {
            "duration": round(info.duration, 3),
            "width": info.width,
            "height": info.height,
            "video_codec": info.video_codec,
            "audio_codec": info.audio_codec,
            "size_bytes": size,
            "provenance": provenance,
        }
        await context.save_checkpoint(stored=result)
        return result

    return generate_video


class JobRun:
    """The job as an adapter sees it: progress, and durable memory across attempts."""

    def __init__(self, context: JobContext) -> None:
        self._context = context

    def progress(self, fraction: float) -> None:
        self._context.progress_from_thread(fraction)

    def recall(self, name: str) -> Any:
        return self._context.checkpoint.get(f"adapter.{name}")

    async def remember(self, name: str, value: Any) -> None:
        await self._context.save_checkpoint(**{f"adapter.{name}": value})


def _reference_images(characters: list[dict[str, Any]], storage: MediaStorage) -> tuple[Path, ...]:
    """The characters' reference stills on this host, interleaved so scenes alternate characters (D16)."""
    per_character: list[list[Path]] = []
    for character in characters:
        paths = [storage.local_path(key) for key in character.get("reference_keys") or []]
        if not paths or any(path is None for path in paths):
            raise JobFailure(
                "character_unavailable",
                f"The reference images of character {character.get('id')} are missing",
                stage="generating",
            )
        per_character.append([path for path in paths if path is not None])
    longest = max((len(paths) for paths in per_character), default=0)
    return tuple(paths[i % len(paths)] for i in range(longest) for paths in per_character)


def _verify_shape(width: int, height: int, duration: float, spec: GenerationSpec) -> None:
    """The partner gets exactly the shape asked for, or nothing and a refund (D15)."""
    if (width, height) != (spec.width, spec.height) or abs(
        duration - spec.duration
    ) > DURATION_TOLERANCE:
        raise JobFailure(
            "render_mismatch",
            f"Rendered video is {width}x{height}, {duration:.2f} s; asked for {spec.width}x{spec.height}, {spec.duration} s",
            retryable=True,
            stage="verifying",
        )
