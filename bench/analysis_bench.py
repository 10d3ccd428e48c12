"""Offline ad analysis of a 30 s 720x1280 ad with speech and captions, stage by stage.

Renders the ad with our storyboard renderer (captioned scenes, piper voice-over) in a child
process, so the peak memory printed last is the analysis alone, as in a worker; loads the models
(reported separately), then runs the pipeline's stages on it as a worker does and prints the
per-stage split, the total's ratio to the ad's duration (target <= 0.5), the transcript's word
error rate against the script and peak memory (target <= 1.5 GB). Then analyses the same ad as two
jobs on a real queue and worker (SQLite, the ad seeded into the media cache as ``knightvision ads
import`` does) and prints the second job's time, whose stages come from the stage cache, as a
ratio to the first's. Prints numbers; asserts nothing.

    python bench/analysis_bench.py [--repeat N] [--model base|tiny.en]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
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


#: How the script's numbers are written out by Whisper, for the word error rate.
SPOKEN_NUMBERS = {"20": "twenty", "10,000": "ten thousand"}


def words_of(text: str) -> list[str]:
    text = text.lower()
    for digits, spoken in SPOKEN_NUMBERS.items():
        text = re.sub(rf"(?<![\d,]){re.escape(digits)}(?![\d,])", spoken, text)
    return re.findall(r"[a-z0-9']+", text)


def word_error_rate(said: str, heard: str) -> float:
    """Word-level edit distance over the script's word count (case and punctuation ignored)."""
    ref, hyp = words_of(said), words_of(heard)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (word != other))
    return row[-1] / max(1, len(ref))


def render(ad: Path) -> None:
    from knightvision.render import RenderSpec, load_voice, render_storyboard

    render_storyboard(
        RenderSpec(prompt=AD_SCRIPT, duration=AD_SECONDS, width=720, height=1280),
        ad,
        voice=load_voice(),
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
    parser.add_argument("--model", choices=["base", "tiny.en"], default="base")
    parser.add_argument("--render-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_only:
        render(args.render_only)
        return

    from knightvision.analysis import metrics
    from knightvision.analysis.breakdown import build_breakdown
    from knightvision.analysis.report import ReportInputs, write_report
    from knightvision.media.frames import extract_frames
    from knightvision.providers.transcription.local_whisper import (
        LocalWhisperConfig,
        LocalWhisperTranscriber,
    )

    work = Path(tempfile.mkdtemp(prefix="kv-analysis-bench-"))
    ad = work / "ad.mp4"
    # rendering is no part of analysis: its memory stays in the child
    subprocess.run([sys.executable, __file__, "--render-only", str(ad)], check=True)

    loading: dict[str, tuple[float, float]] = {}
    transcriber = LocalWhisperTranscriber(LocalWhisperConfig(model=args.model))
    timed(f"whisper {args.model}", transcriber.warm_up, loading)
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
        print(
            f"  transcript: {transcript.language} (p={transcript.language_probability}),"
            f" word error rate {word_error_rate(AD_SCRIPT, transcript.text):.3f}"
            f" against the script: {transcript.text!r}"
        )
    asyncio.run(repeat_jobs(ad, work, transcriber))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    render_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\npeak memory (RSS) of the analysis process: {peak_mb:.0f} MB (target <= 1536 MB);"
        f" rendering the ad, in its own process: {render_mb:.0f} MB"
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
