"""The ``analysis.run`` job (D13, D17, D18): downloading → extracting_frames → transcribing → analyzing.

Each stage saves its output as a checkpoint, so a retried job resumes after its last finished
stage instead of downloading or transcribing again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from knightvision.analysis.providers import AnalysisProviders
from knightvision.job.errors import JobFailure
from knightvision.providers.ad_source import SourceError, parse_ad_url
from knightvision.providers.transcription.port import Transcript, TranscriptionError
from knightvision.worker.context import JobContext
from knightvision.worker.runner import JobHandler

PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "tiktok": "TikTok"}
FRAMES_FOR_WRITER = 8  # selected frames the LLM sees: enough to follow the ad, cheap to send


def make_analysis_handler(providers: AnalysisProviders) -> JobHandler:
    async def analyze(context: JobContext) -> dict[str, Any]:
        media = await _download(context, providers)
        frames = await _extract_frames(context, providers, media)
        transcript = await _transcribe(context, providers, media)
        return await _analyze(context, providers, media, frames, transcript)

    return analyze


async def _download(context: JobContext, providers: AnalysisProviders) -> dict[str, Any]:
    done = context.checkpoint.get("media")
    if done and Path(done["path"]).is_file():
        return done
    platform = context.params["platform"]
    await context.report(
        status="downloading",
        message=f"Downloading ad from {PLATFORM_NAMES[platform]}...",
        progress=5,
    )
    scratch = providers.work_root / context.job.id / "download"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        cached = await asyncio.to_thread(
            providers.fetcher.obtain,
            parse_ad_url(context.params["url"], hosts=providers.allowed_hosts),
            scratch,
        )
    except SourceError as exc:
        raise JobFailure(
            exc.code, exc.message, retryable=exc.retryable, stage="downloading"
        ) from exc
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
    context: JobContext, providers: AnalysisProviders, media: dict[str, Any]
) -> dict[str, Any]:
    if "frames" in context.checkpoint:
        return context.checkpoint["frames"]
    from knightvision.media.frames import extract_frames

    await context.report(status="extracting_frames", message="Extracting frames...", progress=20)
    out_dir = providers.work_root / context.job.id / "frames"
    frame_set = await asyncio.to_thread(
        extract_frames,
        Path(media["path"]),
        out_dir,
        progress=lambda f: context.progress_from_thread(f, start=20, end=40),
    )
    frames = frame_set.to_dict()
    await context.save_checkpoint(frames=frames)
    return frames


async def _transcribe(
    context: JobContext, providers: AnalysisProviders, media: dict[str, Any]
) -> dict[str, Any]:
    if "transcript" in context.checkpoint:
        return context.checkpoint["transcript"]
    await context.report(status="transcribing", message="Transcribing audio...", progress=40)
    try:
        transcript: Transcript = await asyncio.to_thread(
            providers.transcriber.transcribe, Path(media["path"])
        )
    except TranscriptionError as exc:
        raise JobFailure(
            exc.code, exc.message, retryable=exc.retryable, stage="transcribing"
        ) from exc
    data = transcript.to_dict()
    await context.save_checkpoint(transcript=data)
    return data


async def _analyze(
    context: JobContext,
    providers: AnalysisProviders,
    media: dict[str, Any],
    frames: dict[str, Any],
    transcript: dict[str, Any],
) -> dict[str, Any]:
    from knightvision.analysis.breakdown import build_breakdown
    from knightvision.analysis.metrics import measure
    from knightvision.analysis.report import ReportInputs, write_report

    await context.report(status="analyzing", message="Analyzing ad...", progress=65)
    metrics = await asyncio.to_thread(measure, Path(media["path"]), frames, transcript)
    breakdown = build_breakdown(metrics, Transcript.from_dict(transcript))
    await context.report(progress=85)
    source = {
        "platform": context.params["platform"],
        "url": context.params["url"],
        "canonical_key": media["canonical_key"],
        "title": media["title"],
        "carousel": media["carousel"],
    }
    report = await asyncio.to_thread(
        write_report,
        ReportInputs(
            transcript=transcript,
            metrics=metrics,
            breakdown=breakdown,
            frames=_writer_frames(frames),
            source=source,
        ),
        providers.chat_model,
    )
    result = report.to_result()
    result["engine"] = {**result.get("engine", {}), "transcription": transcript.get("engine")}
    result.update(metrics=metrics, breakdown=breakdown, source=source)
    return result


def _writer_frames(frames: dict[str, Any]) -> list[dict[str, Any]]:
    """An even spread of the extracted keyframes for the writer (and an LLM's vision input)."""
    every = frames.get("frames", [])
    if len(every) <= FRAMES_FOR_WRITER:
        chosen = every
    else:
        step = len(every) / FRAMES_FOR_WRITER
        chosen = [every[int(i * step)] for i in range(FRAMES_FOR_WRITER)]
    return [{"time_s": frame["time_s"], "path": frame["path"]} for frame in chosen]
