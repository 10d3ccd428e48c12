"""The ``analysis.run`` job (D13, D17, D18): downloading → extracting_frames → transcribing →
analyzing.

Each stage saves its output as a checkpoint, so a retried job resumes after its last finished
stage instead of downloading or transcribing again. Frames, transcript and metrics are also kept
by media content and engine version (:mod:`.stage_cache`): a later job on the same media reuses
them (the job's own checkpoint still comes first), reporting the same stages on the way, and the
result's ``engine.cached_stages`` names what was reused.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from knightvision.analysis import stage_cache
from knightvision.analysis.engines import AnalysisEngines
from knightvision.analysis.params import analysis_params
from knightvision.analysis.sample_ad import seed_sample_ad
from knightvision.analysis.stage_cache import FRAMES, METRICS, TRANSCRIPT
from knightvision.job.errors import JobFailure, job_stage
from knightvision.job.status import JobStatus
from knightvision.providers.ad_source import CachedMedia, parse_ad_url
from knightvision.providers.ad_source.port import SOURCE_NOT_VIDEO
from knightvision.providers.ad_source.urls import PLATFORM_NAMES
from knightvision.providers.transcription.port import Transcript
from knightvision.worker.context import JobContext
from knightvision.worker.runner import JobHandler

FRAMES_FOR_WRITER = 8  # selected frames the LLM sees: enough to follow the ad, cheap to send


def make_analysis_handler(engines: AnalysisEngines) -> JobHandler:
    async def analyze(context: JobContext) -> dict[str, Any]:
        media = await _download(context, engines)
        frames = await _extract_frames(context, engines, media)
        transcript = await _transcribe(context, engines, media)
        return await _analyze(context, engines, media, frames, transcript)

    return analyze


async def _download(context: JobContext, engines: AnalysisEngines) -> dict[str, Any]:
    done: dict[str, Any] | None = context.checkpoint.get("media")
    if done and Path(done["path"]).is_file():  # noqa: ASYNC240 - one stat of a local file
        return done
    params = analysis_params(context.params)
    await context.report(
        status=JobStatus.DOWNLOADING,
        message=f"Downloading ad from {PLATFORM_NAMES[params['platform']]}...",
        progress=5,
    )
    scratch = engines.work_root / context.job.id / "download"
    scratch.mkdir(parents=True, exist_ok=True)
    with job_stage("downloading"):
        if params.get("test_mode"):
            cached = await asyncio.to_thread(_sample_ad, engines)
        else:
            cached = await asyncio.to_thread(
                engines.fetcher.obtain,
                parse_ad_url(params["url"], hosts=engines.allowed_hosts),
                scratch,
            )
    media = {
        "path": str(cached.path),
        "canonical_key": cached.canonical_key,
        "sha256": cached.sha256,
        "size_bytes": cached.size,
        "source_url": cached.source_url,
        "title": cached.title,
        "carousel": cached.carousel,
    }
    await context.save_checkpoint(media=media)
    return media


async def _extract_frames(
    context: JobContext, engines: AnalysisEngines, media: dict[str, Any]
) -> dict[str, Any]:
    if "frames" in context.checkpoint:
        done: dict[str, Any] = context.checkpoint["frames"]
        return done
    from knightvision.media.frames import extract_frames
    from knightvision.media.probe import NotAVideo

    await context.report(
        status=JobStatus.EXTRACTING_FRAMES, message="Extracting frames...", progress=20
    )
    out_dir = engines.work_root / context.job.id / "frames"
    cache, sha256, version = engines.stage_cache, _sha256(media), stage_cache.frames_version()
    if cache and (reused := await asyncio.to_thread(cache.load_frames, sha256, version, out_dir)):
        await context.save_checkpoint(frames=reused, **_cached(context, FRAMES))
        return reused
    try:
        frame_set = await asyncio.to_thread(
            extract_frames,
            Path(media["path"]),
            out_dir,
            progress=lambda f: context.progress_from_thread(f, start=20, end=40),
        )
    except NotAVideo as exc:  # deterministic: the same bytes fail the same way on every attempt
        raise JobFailure(
            SOURCE_NOT_VIDEO,
            f"The ad's file is not a playable video ({exc}).",
            retryable=False,
            stage="extracting_frames",
        ) from exc
    frames = frame_set.to_dict()
    if cache:
        await asyncio.to_thread(cache.store_frames, sha256, version, frames)
    await context.save_checkpoint(frames=frames)
    return frames


async def _transcribe(
    context: JobContext, engines: AnalysisEngines, media: dict[str, Any]
) -> dict[str, Any]:
    if "transcript" in context.checkpoint:
        done: dict[str, Any] = context.checkpoint["transcript"]
        return done
    await context.report(
        status=JobStatus.TRANSCRIBING, message="Transcribing audio...", progress=40
    )
    cache, sha256 = engines.stage_cache, _sha256(media)
    transcriber = engines.transcriber_for(bool(context.params.get("test_mode")))
    version = stage_cache.transcript_version(transcriber)
    if (
        cache
        and version
        and (reused := await asyncio.to_thread(cache.load, sha256, TRANSCRIPT, version))
    ):
        await context.save_checkpoint(transcript=reused, **_cached(context, TRANSCRIPT))
        return reused
    with job_stage("transcribing"):
        transcript: Transcript = await asyncio.to_thread(
            transcriber.transcribe, Path(media["path"])
        )
    data = transcript.to_dict()
    if cache and version:
        await asyncio.to_thread(cache.store, sha256, TRANSCRIPT, version, data)
    await context.save_checkpoint(transcript=data)
    return data


async def _analyze(
    context: JobContext,
    engines: AnalysisEngines,
    media: dict[str, Any],
    frames: dict[str, Any],
    transcript: dict[str, Any],
) -> dict[str, Any]:
    from knightvision.analysis.breakdown import build_breakdown
    from knightvision.analysis.reconcile import reconcile_metrics
    from knightvision.analysis.report import ReportInputs, write_report

    await context.report(status=JobStatus.ANALYZING, message="Analyzing ad...", progress=65)
    metrics = await _measure(context, engines, media, frames, transcript)
    # from here on every reader sees the transcript corrected toward the screen (D23)
    transcript = reconcile_metrics(metrics, transcript)
    breakdown = build_breakdown(metrics, Transcript.from_dict(transcript))
    await context.report(progress=85)
    params = analysis_params(context.params)
    source = {
        "platform": params["platform"],
        "url": params["url"],
        "canonical_key": media["canonical_key"],
        "title": media["title"],
        "carousel": media["carousel"],
    }
    inputs = ReportInputs(
        transcript=transcript,
        metrics=metrics,
        breakdown=breakdown,
        frames=_writer_frames(frames),
        source=source,
    )
    # A test-mode job never calls an upstream: the offline writer writes its report.
    chat_model = None if params.get("test_mode") else engines.chat_model
    # Writing is mostly waiting for the language model's reply: the slot serves other jobs.
    waiting = context.off_slot() if chat_model is not None else contextlib.nullcontext()
    async with waiting:
        report = await asyncio.to_thread(
            write_report, inputs, chat_model, timeout=engines.llm_timeout_s
        )
    if report.llm_exchange is not None:  # for operators (``knightvision jobs show``), not partners
        await context.save_checkpoint(llm=report.llm_exchange)
    result = report.to_result()
    result["engine"] = {
        **result.get("engine", {}),
        "transcription": transcript.get("engine"),
        "cached_stages": context.checkpoint.get("cached_stages", []),
    }
    if params.get("test_mode"):
        source["test_mode"] = True  # the bundled sample ad was analysed, not the ad at the URL
    result.update(metrics=metrics, breakdown=breakdown, source=source)
    return result


def _sample_ad(engines: AnalysisEngines) -> CachedMedia:
    """The bundled sample ad, rendered here once and kept apart from real ads' cache."""
    if engines.test_ad_cache_root is None:
        raise JobFailure("test_mode_unavailable", "Test mode is not available", retryable=False)
    return seed_sample_ad(engines.test_ad_cache_root)


async def _measure(
    context: JobContext,
    engines: AnalysisEngines,
    media: dict[str, Any],
    frames: dict[str, Any],
    transcript: dict[str, Any],
) -> dict[str, Any]:
    """The measured metrics: from the stage cache when this media was measured before with the
    same frames, transcript and metrics versions; else measured (and kept)."""
    from knightvision.analysis.metrics import measure

    cache, sha256 = engines.stage_cache, _sha256(media)
    heard = stage_cache.transcript_version(
        engines.transcriber_for(bool(context.params.get("test_mode")))
    )
    version = heard and stage_cache.metrics_version(stage_cache.frames_version(), heard)
    if (
        cache
        and version
        and (reused := await asyncio.to_thread(cache.load, sha256, METRICS, version))
    ):
        await context.save_checkpoint(**_cached(context, METRICS))
        return reused
    metrics: dict[str, Any] = await asyncio.to_thread(
        measure, Path(media["path"]), frames, transcript
    )
    if cache and version:
        await asyncio.to_thread(cache.store, sha256, METRICS, version, metrics)
    return metrics


def _sha256(media: dict[str, Any]) -> str:
    """The media's content hash, what stage outputs are cached by ("" in an older checkpoint:
    never a hit)."""
    return str(media.get("sha256") or "")


def _cached(context: JobContext, stage: str) -> dict[str, Any]:
    """The checkpoint update that records ``stage`` as taken from the stage cache (once, however
    often a retried job takes it)."""
    done: list[str] = context.checkpoint.get("cached_stages", [])
    return {"cached_stages": done if stage in done else [*done, stage]}


def _writer_frames(frames: dict[str, Any]) -> list[dict[str, Any]]:
    """An even spread of the extracted keyframes for the writer (and an LLM's vision input)."""
    every = frames.get("frames", [])
    if len(every) <= FRAMES_FOR_WRITER:
        chosen = every
    else:
        step = len(every) / FRAMES_FOR_WRITER
        chosen = [every[int(i * step)] for i in range(FRAMES_FOR_WRITER)]
    return [{"time_s": frame["time_s"], "path": frame["path"]} for frame in chosen]
