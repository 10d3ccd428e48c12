"""The ``video.generate`` job: render on the model's adapter, verify the file, store it for good."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from knightvision.adapter_names import AdapterName
from knightvision.job.errors import JobFailure, job_stage
from knightvision.job.status import JobStatus
from knightvision.providers.storage.port import MediaStorage
from knightvision.providers.video_model.port import (
    CharacterRef,
    GenerationSpec,
    VideoModelAdapter,
)
from knightvision.video.params import VideoCharacter, video_params
from knightvision.worker.context import AdapterRun, JobContext
from knightvision.worker.delivery import RequestedShape, render_verify_store
from knightvision.worker.runner import JobHandler


def video_key(job_id: str) -> str:
    return f"videos/{job_id}.mp4"


def make_video_handler(adapters: dict[str, VideoModelAdapter], storage: MediaStorage) -> JobHandler:
    async def generate_video(context: JobContext) -> dict[str, Any]:
        params = video_params(context.params)
        stored_key = video_key(context.job.id)
        if "stored" in context.checkpoint and (
            await asyncio.to_thread(storage.stat, stored_key) is not None
        ):
            stored: dict[str, Any] = context.checkpoint["stored"]
            return stored
        await context.report(status=JobStatus.PROCESSING, message="Generating video...", progress=5)
        adapter = adapters.get(params["adapter"])
        if adapter is None or not adapter.available():
            raise JobFailure(
                "generation_unavailable", "Video generation not available", stage="generating"
            )
        characters = params.get("characters") or []
        local = params["adapter"] == AdapterName.LOCAL_STORYBOARD
        # Characters our presenter renderer made are drawn live; the others are shown by stills.
        with_stills = [c for c in characters if not c.get("presenter_prompt")]
        stills = (
            # Looking for open eyes in the stills is CPU work: off the event loop.
            await asyncio.to_thread(_reference_images, with_stills, storage)
            if local and with_stills
            else ()
        )
        spec = GenerationSpec(
            prompt=params.get("render_prompt") or params["prompt"],
            duration=params["duration"],
            width=params["width"],
            height=params["height"],
            aspect_ratio=params["aspect_ratio"],
            resolution=params["resolution"],
            upstream_model=params.get("upstream_model"),
            brand_color=params.get("brand_color"),
            job_id=context.job.id,
            style=params.get("style"),
            reference_images=stills,
            presenters=tuple(
                c["presenter_prompt"] for c in characters if c.get("presenter_prompt") and local
            ),
            characters=tuple(
                CharacterRef(upstream_id=c["upstream_id"], handle=c.get("handle"), name=c["name"])
                for c in characters
                if c.get("upstream_id") and not local
            ),
        )

        async def render(output: Path) -> dict[str, Any]:
            with job_stage("generating"):
                return await adapter.generate(spec, output, AdapterRun(context))

        delivered = await render_verify_store(
            context,
            storage,
            render,
            shape=RequestedShape(spec.width, spec.height, spec.duration),
            key=video_key(context.job.id),
            file_name=f"{context.job.id}.mp4",
            storing_message="Storing video...",
        )
        info = delivered.info
        result = {
            "duration": round(info.duration, 3),
            "width": info.width,
            "height": info.height,
            "video_codec": info.video_codec,
            "audio_codec": info.audio_codec,
            "size_bytes": delivered.size_bytes,
            "provenance": delivered.provenance,
        }
        if delivered.provenance.get("render_notes"):  # what the renderer could not do as asked
            result["render_notes"] = delivered.provenance["render_notes"]
        await context.save_checkpoint(stored=result)
        return result

    return generate_video


def _reference_images(characters: list[VideoCharacter], storage: MediaStorage) -> tuple[Path, ...]:
    """The characters' reference stills on this host (fetched from the storage when it is remote),
    those with the eyes seen open, interleaved so scenes alternate characters (D16)."""
    from knightvision.render.scenes.reference import open_eyed  # OpenCV: only where it renders

    per_character: list[list[Path]] = []
    for character in characters:
        paths = [storage.fetch(key) for key in character.get("reference_keys") or []]
        if not paths or any(path is None for path in paths):
            raise JobFailure(
                "character_unavailable",
                f"The reference images of character {character.get('id')} are missing",
                stage="generating",
            )
        per_character.append(list(open_eyed([path for path in paths if path is not None])))
    longest = max((len(paths) for paths in per_character), default=0)
    return tuple(paths[i % len(paths)] for i in range(longest) for paths in per_character)
