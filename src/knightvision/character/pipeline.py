"""The ``character.create`` and ``character.finalize`` jobs.

``character.create`` renders the character video on the character's upstream (our presenter figure
offline, or an upstream Sora model through its video adapter), verifies its exact shape and stores
it at its permanent key. ``character.finalize`` cuts the chosen seconds out of that stored video
with our own media tools, keeps reference stills of them (what our renderer composites into later
videos), and registers the character with that upstream, if any. A failure ends the job in
error and the queue refunds it in the same transaction (D11); the character's status follows its
jobs (``failed``, or back to ``ready`` after a failed finalize, D13).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from knightvision.adapter_names import AdapterName
from knightvision.character.params import CharacterFinalizeParams, create_params, finalize_params
from knightvision.character.service import character_video_key
from knightvision.character.upstream import LOCAL
from knightvision.job.errors import JobFailure, job_stage
from knightvision.job.status import JobStatus
from knightvision.media.segment import SegmentError, cut_segment, extract_stills
from knightvision.providers.storage.port import MediaStorage
from knightvision.providers.video_model.port import (
    CharacterRegistration,
    GenerationSpec,
    VideoModelAdapter,
)
from knightvision.worker.context import AdapterRun, JobContext
from knightvision.worker.delivery import (
    DURATION_TOLERANCE,
    RequestedShape,
    render_verify_store,
    store,
)
from knightvision.worker.runner import JobHandler

REFERENCE_STILLS = 3


def finalize_key(public_token: str, job_id: str, name: str) -> str:
    """Where one finalize job keeps its segment and stills (a failed one never touches the last
    good)."""
    return f"characters/{public_token}/{job_id}/{name}"


def _upstream(adapters: dict[str, VideoModelAdapter], name: str) -> VideoModelAdapter:
    adapter = adapters.get(name)
    if adapter is None or not adapter.available():
        raise JobFailure(
            "generation_unavailable", "Video generation not available", stage="generating"
        )
    return adapter


def make_character_create_handler(
    adapters: dict[str, VideoModelAdapter], storage: MediaStorage
) -> JobHandler:
    async def create_character(context: JobContext) -> dict[str, Any]:
        params = create_params(context.params)
        key = character_video_key(params["public_token"])
        if "stored" in context.checkpoint and (
            await asyncio.to_thread(storage.stat, key) is not None
        ):
            stored: dict[str, Any] = context.checkpoint["stored"]
            return stored
        await context.report(
            status=JobStatus.PROCESSING, message="Creating the character video...", progress=5
        )

        async def render_local(output: Path) -> dict[str, Any]:
            from knightvision.render import (  # the API process never pays for it
                PresenterSpec,
                render_presenter,
            )

            spec = PresenterSpec(
                prompt=params["prompt"],
                duration=params["duration"],
                width=params["width"],
                height=params["height"],
            )
            await asyncio.to_thread(
                render_presenter, spec, output, progress=context.progress_from_thread
            )
            return {"renderer": AdapterName.LOCAL_STORYBOARD, "figure": "presenter"}

        async def render_upstream(output: Path) -> dict[str, Any]:
            adapter = _upstream(adapters, params["adapter"])
            spec = GenerationSpec(
                prompt=params["prompt"],
                duration=params["duration"],
                width=params["width"],
                height=params["height"],
                aspect_ratio=params["aspect_ratio"],
                resolution="720p",
                upstream_model=params.get("upstream_model"),
                job_id=context.job.id,
            )
            with job_stage("generating"):
                return await adapter.generate(spec, output, AdapterRun(context, (5, 90)))

        delivered = await render_verify_store(
            context,
            storage,
            render_local if params["adapter"] == LOCAL else render_upstream,
            shape=RequestedShape(params["width"], params["height"], params["duration"]),
            key=key,
            file_name="character.mp4",
            storing_message="Storing the character video...",
        )
        info, provenance = delivered.info, delivered.provenance
        result = {
            "video_key": key,
            "duration": round(info.duration, 3),
            "width": info.width,
            "height": info.height,
            "size_bytes": delivered.size_bytes,
            "origin_task_id": provenance.get("upstream_task_id"),
            "provenance": provenance,
        }
        await context.save_checkpoint(stored=result)
        return result

    return create_character


def make_character_finalize_handler(
    adapters: dict[str, VideoModelAdapter], storage: MediaStorage
) -> JobHandler:
    async def finalize_character(context: JobContext) -> dict[str, Any]:
        params = finalize_params(context.params)
        start, end = params["timestamp_start"], params["timestamp_end"]
        cut = context.checkpoint.get("cut")
        if not cut or not await asyncio.to_thread(
            _all_stored, storage, [cut["segment_key"], *cut["reference_keys"]]
        ):
            # Only when there is cutting to do: a job resumed from a parked registration says
            # what it is doing now, not what it did before.
            await context.report(
                status=JobStatus.FINALIZING, message="Cutting the character segment...", progress=5
            )
            cut = await _cut(context, params, storage)
            await context.save_checkpoint(cut=cut)

        upstream = None
        if params["adapter"] != LOCAL:
            await context.report(message="Registering the character...", progress=40)
            adapter = _upstream(adapters, params["adapter"])
            if not hasattr(adapter, "register_character"):
                raise JobFailure(
                    "generation_unavailable", "Video generation not available", stage="registering"
                )
            registration = CharacterRegistration(
                name=params["name"],
                handle=params["handle"],
                character_prompt=params["character_prompt"],
                traits=params["prompt"],
                timestamp_start=start,
                timestamp_end=end,
                origin_task_id=params.get("origin_task_id"),
                segment=await asyncio.to_thread(storage.fetch, cut["segment_key"]),
                video_url=params.get("video_url"),
                job_id=context.job.id,
            )
            with job_stage("registering"):
                upstream = await adapter.register_character(
                    registration, AdapterRun(context, (40, 95))
                )
        result = {
            "timestamp_start": start,
            "timestamp_end": end,
            "character_prompt": params["character_prompt"],
            **cut,
        }
        if upstream is not None:
            result["upstream"] = upstream
        return result

    return finalize_character


def _all_stored(storage: MediaStorage, keys: list[str]) -> bool:
    return all(storage.stat(key) is not None for key in keys)


async def _cut(
    context: JobContext, params: CharacterFinalizeParams, storage: MediaStorage
) -> dict[str, Any]:
    """Cut the segment out of the stored character video and keep stills of it."""
    start, end = params["timestamp_start"], params["timestamp_end"]
    source = await asyncio.to_thread(storage.fetch, character_video_key(params["public_token"]))
    if source is None:
        raise JobFailure(
            "character_video_missing",
            "The character video is no longer available",
            stage="extracting",
        )
    with tempfile.TemporaryDirectory(dir=storage.scratch_dir()) as scratch:
        segment = Path(scratch) / "segment.mp4"
        try:
            info = await asyncio.to_thread(cut_segment, source, segment, start, end)
            stills = await asyncio.to_thread(
                extract_stills,
                segment,
                Path(scratch) / "stills",
                REFERENCE_STILLS,
                stem="reference",
            )
        except SegmentError as exc:
            raise JobFailure(
                "segment_failed",
                f"Could not cut seconds {start}-{end} out of the character video",
                stage="extracting",
            ) from exc
        if abs(info.duration - (end - start)) > DURATION_TOLERANCE:
            raise JobFailure(
                "segment_failed",
                f"Could not cut seconds {start}-{end} out of the character video",
                stage="extracting",
            )
        segment_key = finalize_key(params["public_token"], context.job.id, "segment.mp4")
        await store(storage, segment_key, segment)
        reference_keys = []
        for index, still in enumerate(stills):
            key = finalize_key(params["public_token"], context.job.id, f"reference_{index}.png")
            await store(storage, key, still)
            reference_keys.append(key)
    return {
        "segment_key": segment_key,
        "segment_seconds": round(info.duration, 3),
        "reference_keys": reference_keys,
    }
