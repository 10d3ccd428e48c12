"""Repeat analyses of the same media on a real queue and worker: each is a new, charged job, but
frames, transcript and metrics come from the stage cache instead of being computed again.

Everything is production code; the ad is a real rendered video seeded into the media cache as
``knightvision ads import`` does (so no download runs), and the stages are counted through thin
wrappers around the real frame extractor, transcriber and metrics.
"""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from knightvision.analysis.engines import AnalysisEngines
from knightvision.analysis.stage_cache import StageCache
from knightvision.job.queue import JobQueue
from knightvision.providers.ad_source import AdMediaFetcher, MediaCache, parse_ad_url
from knightvision.providers.ad_source.ytdlp import YtDlpSource
from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber
from knightvision.providers.transcription.port import Transcript
from knightvision.settings import DEFAULT_PRICES
from tests.fixtures.analysis_jobs import analysis_account, run_analyses, submit_analysis
from tests.fixtures.job_queue import balances

COST = DEFAULT_PRICES["analysis"]
CREDITS = 1000
SCRIPT = "Fresh bread delivered every morning. Order today."
ALL_STAGES = ["extracting_frames", "transcribing", "metrics"]


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ad_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real ad: 4 s, captioned scenes and a piper voice-over, from our renderer."""
    from knightvision.render import RenderSpec, load_voice, render_storyboard

    path = tmp_path_factory.mktemp("ad") / "bread.mp4"
    render_storyboard(
        RenderSpec(prompt=SCRIPT, duration=4, width=720, height=720, fps=10),
        path,
        voice=load_voice(),
    )
    return path


class Counted:
    """How often each expensive stage really ran."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import knightvision.analysis.metrics as metrics_package
        import knightvision.media.frames as frames_module

        self.extractions = 0
        self.measurements = 0
        real_extract, real_measure = frames_module.extract_frames, metrics_package.measure

        def extract(video: Path, out_dir: Path, **kwargs: Any) -> Any:
            self.extractions += 1
            return real_extract(video, out_dir, **kwargs)

        def measure(*args: Any) -> dict[str, Any]:
            self.measurements += 1
            return real_measure(*args)

        monkeypatch.setattr(frames_module, "extract_frames", extract)
        monkeypatch.setattr(metrics_package, "measure", measure)

    def __call__(self, transcriber: CountingTranscriber) -> tuple[int, int, int]:
        return self.extractions, transcriber.calls, self.measurements


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    return Counted(monkeypatch)


class CountingTranscriber:
    """The real local transcriber, counting its transcriptions."""

    def __init__(self) -> None:
        self.real = LocalWhisperTranscriber()
        self.engine = self.real.engine
        self.calls = 0

    @property
    def cache_version(self) -> str:
        return self.real.cache_version

    def transcribe(self, audio_or_video: Path) -> Transcript:
        self.calls += 1
        return self.real.transcribe(audio_or_video)


def _engines(tmp_path: Path, transcriber: CountingTranscriber) -> AnalysisEngines:
    # The source is never asked: every ad here is already in the media cache.
    source = YtDlpSource(cookies_file=None, max_bytes=10_000_000, max_duration_s=30, timeout_s=5)
    return AnalysisEngines(
        fetcher=AdMediaFetcher(MediaCache(tmp_path / "ads"), source),
        transcriber=transcriber,
        chat_model=None,
        work_root=tmp_path / "work",
        stage_cache=StageCache(tmp_path / "analysis-cache"),
    )


def _seed(engines: AnalysisEngines, ad_id: int, file: Path) -> str:
    """The ad in the media cache under its key, as ``knightvision ads import`` puts it; its URL."""
    url = f"https://www.facebook.com/ads/library/?id={ad_id}"
    engines.fetcher.cache.import_file(parse_ad_url(url), file)
    return url


async def _run(queue: JobQueue, engines: AnalysisEngines, job_ids: list[str]) -> list[Any]:
    """A real worker runs the jobs; every one completes, charged and not refunded."""
    rows = await run_analyses(queue, engines, job_ids)
    for row in rows:
        assert (row.status, row.credits_refunded) == ("complete", 0), row.last_error
    return rows


async def _analyse(queue: JobQueue, engines: AnalysisEngines, account: int, url: str) -> Any:
    [row] = await _run(queue, engines, [await submit_analysis(queue, account, url)])
    return row


def _shared(result: dict[str, Any]) -> dict[str, Any]:
    """A result without what belongs to one job (which stages it took from the cache)."""
    engine = {k: v for k, v in result["engine"].items() if k != "cached_stages"}
    return {**result, "engine": engine}


def _recomputed(result: dict[str, Any]) -> dict[str, Any]:
    """A result without job-specific fields or the seconds its measurements took."""
    shared = _shared(result)
    metrics = {k: v for k, v in shared["metrics"].items() if k != "timings"}
    return {**shared, "metrics": metrics}


def _frames_of(row: Any) -> dict[str, bytes]:
    frames = row.checkpoint["frames"]["frames"]
    assert frames and all(f"/{row.id}/frames/" in f["path"] for f in frames)  # its own folder
    return {Path(f["path"]).name: Path(f["path"]).read_bytes() for f in frames}


# 1. A repeat analysis reuses every stage ------------------------------------------------------


async def test_a_repeat_analysis_is_a_new_charged_job_that_computes_nothing_again(
    queue: JobQueue, tmp_path: Path, ad_file: Path, counted: Counted
) -> None:
    transcriber = CountingTranscriber()
    engines = _engines(tmp_path, transcriber)
    url = _seed(engines, 5001, ad_file)
    account = await analysis_account(queue)

    first = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (1, 1, 1)
    assert first.result["engine"]["cached_stages"] == []
    assert "bread" in first.result["transcription"].lower()

    second = await _analyse(queue, engines, account, url)

    assert counted(transcriber) == (1, 1, 1)  # no decode, no transcription, no measurement
    assert second.id != first.id
    assert await balances(queue, account) == (CREDITS - 2 * COST, CREDITS - 2 * COST)
    assert second.result["engine"]["cached_stages"] == ALL_STAGES
    assert _shared(second.result) == _shared(first.result)
    assert second.checkpoint["transcript"] == first.checkpoint["transcript"]
    assert _frames_of(second) == _frames_of(first)  # the same frames, copied into its own folder

    # One job's files are its own: removing the first job's folder breaks neither the second job
    # nor a third analysis of the same media.
    shutil.rmtree(engines.work_root / first.id)
    assert _frames_of(second)
    third = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (1, 1, 1)
    assert _shared(third.result) == _shared(first.result)
    assert _frames_of(third) == _frames_of(second)


async def test_the_same_bytes_under_another_ad_key_are_the_same_media(
    queue: JobQueue, tmp_path: Path, ad_file: Path, counted: Counted
) -> None:
    transcriber = CountingTranscriber()
    engines = _engines(tmp_path, transcriber)
    account = await analysis_account(queue)

    first = await _analyse(queue, engines, account, _seed(engines, 5101, ad_file))
    other = await _analyse(queue, engines, account, _seed(engines, 5102, ad_file))

    assert counted(transcriber) == (1, 1, 1)
    assert other.result["engine"]["cached_stages"] == ALL_STAGES
    assert other.result["source"]["canonical_key"] == "facebook:5102"
    assert other.result["metrics"] == first.result["metrics"]


# 2. A changed engine version recomputes what depends on it ------------------------------------


async def test_a_changed_engine_version_recomputes_that_stage_and_what_depends_on_it(
    queue: JobQueue,
    tmp_path: Path,
    ad_file: Path,
    counted: Counted,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import knightvision.media.frames as frames_module
    import knightvision.providers.transcription.local_whisper as whisper_module

    # (the package's ``measure`` function hides its module of the same name)
    measure_module = importlib.import_module("knightvision.analysis.metrics.measure")
    transcriber = CountingTranscriber()
    engines = _engines(tmp_path, transcriber)
    url = _seed(engines, 5201, ad_file)
    account = await analysis_account(queue)
    first = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (1, 1, 1)

    monkeypatch.setattr(measure_module, "METRICS_VERSION", "metrics-changed")
    row = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (1, 1, 2)
    assert row.result["engine"]["cached_stages"] == ["extracting_frames", "transcribing"]

    monkeypatch.setattr(frames_module, "FRAMES_VERSION", "frames-changed")
    row = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (2, 1, 3)  # metrics are measured on the frames
    assert row.result["engine"]["cached_stages"] == ["transcribing"]

    monkeypatch.setattr(whisper_module, "ENGINE_VERSION", "local-whisper-changed")
    row = await _analyse(queue, engines, account, url)
    assert counted(transcriber) == (2, 2, 4)  # and on the transcript
    assert row.result["engine"]["cached_stages"] == ["extracting_frames"]
    assert _recomputed(row.result) == _recomputed(first.result)

    row = await _analyse(queue, engines, account, url)  # the new versions are cached in turn
    assert counted(transcriber) == (2, 2, 4)
    assert row.result["engine"]["cached_stages"] == ALL_STAGES


# 3. A damaged entry is a miss ------------------------------------------------------------------


async def test_corrupt_or_half_written_entries_are_ignored_and_replaced(
    queue: JobQueue, tmp_path: Path, ad_file: Path, counted: Counted
) -> None:
    transcriber = CountingTranscriber()
    engines = _engines(tmp_path, transcriber)
    url = _seed(engines, 5301, ad_file)
    account = await analysis_account(queue)
    first = await _analyse(queue, engines, account, url)
    entries = tmp_path / "analysis-cache" / first.checkpoint["media"]["sha256"]
    by_stage = {path.name.split("-")[0]: path for path in entries.glob("*.json")}
    assert set(by_stage) == {"extracting_frames", "transcribing", "metrics"}

    # A half-written transcript, a metrics entry for other media, one frame file truncated.
    text = by_stage["transcribing"].read_bytes()
    by_stage["transcribing"].write_bytes(text[: len(text) // 2])
    metrics = json.loads(by_stage["metrics"].read_text())
    by_stage["metrics"].write_text(json.dumps({**metrics, "sha256": "0" * 64}))
    folder = entries / json.loads(by_stage["extracting_frames"].read_text())["data"]["folder"]
    frame = sorted(folder.iterdir())[0]
    frame.write_bytes(frame.read_bytes()[:100])
    # A writer that died before its rename leaves only a partial file beside the entries.
    (entries / ".transcribing-0000.json.tmp.partial").write_text('{"format": 1')

    second = await _analyse(queue, engines, account, url)

    assert counted(transcriber) == (2, 2, 2)  # every damaged stage was computed again
    assert second.result["engine"]["cached_stages"] == []
    assert _recomputed(second.result) == _recomputed(first.result)
    assert all(len(data) > 100 for data in _frames_of(second).values())

    third = await _analyse(queue, engines, account, url)  # the entries were replaced
    assert counted(transcriber) == (2, 2, 2)
    assert third.result["engine"]["cached_stages"] == ALL_STAGES
    assert _frames_of(third) == _frames_of(second)


# 4. Two jobs on the same new media at once -----------------------------------------------------


async def test_concurrent_jobs_on_the_same_new_media_are_both_correct(
    queue: JobQueue, tmp_path: Path, ad_file: Path, counted: Counted
) -> None:
    transcriber = CountingTranscriber()
    engines = _engines(tmp_path, transcriber)
    url = _seed(engines, 5401, ad_file)
    account = await analysis_account(queue)
    job_ids = [await submit_analysis(queue, account, url) for _ in range(2)]

    rows = await _run(queue, engines, job_ids)

    spans = sorted((row.started_at, row.finished_at) for row in rows)
    assert spans[1][0] < spans[0][1]  # both ran at once
    assert _recomputed(rows[0].result) == _recomputed(rows[1].result)
    assert "bread" in rows[0].result["transcription"].lower()
    assert _frames_of(rows[0]) == _frames_of(rows[1])
    assert await balances(queue, account) == (CREDITS - 2 * COST, CREDITS - 2 * COST)

    later = await _analyse(queue, engines, account, url)
    assert later.result["engine"]["cached_stages"] == ALL_STAGES
    assert _recomputed(later.result) == _recomputed(rows[0].result)
    assert 1 <= transcriber.calls <= 2 and counted(transcriber)[0] <= 2
