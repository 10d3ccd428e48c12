"""The ``analysis.run`` job (D13, D17, D18): downloading → extracting_frames → transcribing →
analyzing.

Each stage saves its output as a checkpoint, so a retried job resumes after its last finished
stage instead of downloading or transcribing again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from knightvision.analysis.engines import AnalysisEngines
from knightvision.analysis.params import analysis_params
from knightvision.job.errors import JobFailure, job_stage
from knightvision.job.status import JobStatus
from knightvision.providers.ad_source import parse_ad_url
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
    with job_stage("transcribing"):
        transcript: Transcript = await asyncio.to_thread(
            engines.transcriber.transcribe, Path(media["path"])
        )
    data = transcript.to_dict()
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
    from knightvision.analysis.metrics import measure
    from knightvision.analysis.report import ReportInputs, write_report

    await context.report(status=JobStatus.ANALYZING, message="Analyzing ad...", progress=65)
    metrics = await asyncio.to_thread(measure, Path(media["path"]), frames, transcript)
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
    report = await asyncio.to_thread(
        write_report,
        ReportInputs(
            transcript=transcript,
            metrics=metrics,
            breakdown=breakdown,
            frames=_writer_frames(frames),
            source=source,
        ),
        engines.chat_model,
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
