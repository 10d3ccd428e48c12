"""Offline ad analysis of a 30 s 720x1280 ad with speech and captions, stage by stage.

Renders the ad with our storyboard renderer (captioned scenes, piper voice-over), loads the models
(reported separately), then runs the pipeline's stages on it as a worker does and prints the
per-stage split, the total's ratio to the ad's duration (target <= 0.5) and peak memory
(target <= 1.5 GB). Then analyses the same ad as two jobs on a real queue and worker (SQLite, the
ad seeded into the media cache as ``knightvision ads import`` does) and prints the second job's
time, whose stages come from the stage cache, as a ratio to the first's. Prints numbers; asserts
nothing.

    python bench/analysis_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

AD_SECONDS = 30
AD_SCRIPT = (
    "Tired of bitter coffee every single morning? "
    "Most cold brews taste burnt and cost a fortune. "
    "Brightbrew is smooth, sweet and ready in seconds. "
    "We steep every batch for twenty hours in small kettles. "
    "Over ten thousand happy customers switched this year. "
    "Baristas call it the smoothest cup in town. "
    "Order today and get your first box free."
)


def timed(label: str, action: Callable[[], Any], split: dict[str, tuple[float, float]]) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    split[label] = (time.perf_counter() - wall, time.process_time() - cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=2, help="analysis runs after the models are loaded"
    )
    args = parser.parse_args()

    from knightvision.analysis import metrics
    from knightvision.analysis.breakdown import build_breakdown
    from knightvision.analysis.report import ReportInputs, write_report
    from knightvision.media.frames import extract_frames
    from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber
    from knightvision.render import RenderSpec, load_voice, render_storyboard

    work = Path(tempfile.mkdtemp(prefix="kv-analysis-bench-"))
    ad = work / "ad.mp4"
    render_storyboard(
        RenderSpec(prompt=AD_SCRIPT, duration=AD_SECONDS, width=720, height=1280),
        ad,
        voice=load_voice(),
    )

    loading: dict[str, tuple[float, float]] = {}
    transcriber = LocalWhisperTranscriber()
    timed("whisper tiny.en", transcriber.warm_up, loading)
    timed("OCR + face engines", metrics.warm_up, loading)
    print(
        f"ad: {AD_SECONDS} s 720x1280 with voice-over and captions"
        f" ({ad.stat().st_size // 1024} KiB)"
    )
    print("model loading (once per worker process, excluded below):")
    for label, (wall, cpu) in loading.items():
        print(f"  {label:<22} wall {wall:5.2f} s  cpu {cpu:5.2f} s")

    for run in range(1, args.repeat + 1):
        split: dict[str, tuple[float, float]] = {}
        # Each action binds this run's values; the report's inputs are built in its timed window.
        frames = timed(
            "extracting_frames", partial(extract_frames, ad, work / f"frames-{run}"), split
        )
        transcript = timed("transcribing", partial(transcriber.transcribe, ad), split)
        measured = timed(
            "analyzing: metrics", partial(metrics.measure, ad, frames, transcript), split
        )
        breakdown = timed(
            "analyzing: breakdown", partial(build_breakdown, measured, transcript, frames), split
        )
        timed(
            "analyzing: report",
            lambda transcript=transcript, measured=measured, breakdown=breakdown: write_report(
                ReportInputs(
                    transcript=transcript.to_dict(), metrics=measured, breakdown=breakdown
                ),
                None,
            ),
            split,
        )
        total = sum(wall for wall, _ in split.values())
        print(f"\nrun {run}:")
        for label, (wall, cpu) in split.items():
            print(f"  {label:<22} wall {wall:5.2f} s  cpu {cpu:5.2f} s  ({wall / total:4.0%})")
        print(
            f"  {'total':<22} wall {total:5.2f} s  = {total / AD_SECONDS:.2f}x the ad's duration"
            " (target <= 0.50)"
        )
        print(f"  metrics split: {measured.get('timings')}")
    asyncio.run(repeat_jobs(ad, work, transcriber))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak memory (RSS, whole process incl. rendering): {peak_mb:.0f} MB (target <= 1536 MB)"
    )
    print(
        f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        " (other work skews wall times)"
    )


async def repeat_jobs(ad: Path, work: Path, transcriber: Any) -> None:
    """The same media analysed by two jobs, start to finish through the worker: the first computes
    and keeps every stage, the second reuses them."""
    from knightvision.account import admin
    from knightvision.analysis.engines import AnalysisEngines
    from knightvision.analysis.pipeline import make_analysis_handler
    from knightvision.analysis.service import ANALYSIS_JOB_KIND
    from knightvision.analysis.stage_cache import StageCache
    from knightvision.db.engine import create_engine
    from knightvision.db.migrate import upgrade
    from knightvision.db.schema import jobs
    from knightvision.job.queue import JobQueue, QueuePolicy
    from knightvision.kit.clock import utcnow
    from knightvision.kit.ids import new_job_id
    from knightvision.providers.ad_source import AdMediaFetcher, MediaCache, parse_ad_url
    from knightvision.providers.ad_source.ytdlp import YtDlpSource
    from knightvision.settings import Settings
    from knightvision.worker.runner import WorkerRunner

    database = Settings(database_url=f"sqlite:///{work / 'bench.db'}").async_database_url
    await asyncio.to_thread(upgrade, database)
    engine = create_engine(database)
    queue = JobQueue(engine, QueuePolicy(lease_seconds=60, max_attempts=1, timeout_seconds=600))
    source = YtDlpSource(cookies_file=None, max_bytes=50_000_000, max_duration_s=60, timeout_s=5)
    engines = AnalysisEngines(
        fetcher=AdMediaFetcher(MediaCache(work / "ads"), source),
        transcriber=transcriber,
        chat_model=None,
        work_root=work / "analysis",
        stage_cache=StageCache(work / "analysis-cache"),
    )
    ref = parse_ad_url("https://www.facebook.com/ads/library/?id=9001")
    engines.fetcher.cache.import_file(ref, ad)
    account = (await admin.create_account(engine, "bench", 1000))["account_id"]
    runner = WorkerRunner(
        queue, {ANALYSIS_JOB_KIND: make_analysis_handler(engines)}, slots=1, poll_interval=0.01
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(runner.run(stop))
    print("\nthe same ad as two jobs (queue, worker, stage cache; submit to finished):")
    walls: list[float] = []
    try:
        for label in ("first job", "repeat job"):
            job_id = new_job_id(utcnow())
            started = time.perf_counter()
            await queue.submit_paid(
                job_id=job_id,
                account_id=account,
                kind=ANALYSIS_JOB_KIND,
                params={
                    "url": ref.url,
                    "platform": ref.platform,
                    "canonical_key": ref.canonical_key,
                    "submitted_url": ref.url,
                },
                cost=50,
                reason="bench",
            )
            job = await _finished(engine, jobs, job_id)
            walls.append(time.perf_counter() - started)
            cached = (job.result or {}).get("engine", {}).get("cached_stages")
            print(f"  {label:<22} wall {walls[-1]:5.2f} s  {job.status}, cached stages: {cached}")
    finally:
        stop.set()
        await worker
        await engine.dispose()
    print(f"  {'repeat / first':<22} {walls[1] / walls[0]:.3f}")


async def _finished(engine: Any, table: Any, job_id: str) -> Any:
    """The job's row once it has finished (polled, as a partner polls the API)."""
    from sqlalchemy import select

    while True:
        async with engine.connect() as conn:
            row = (await conn.execute(select(table).where(table.c.id == job_id))).one()
        if row.finished_at is not None:
            return row
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    main()
