"""The real ``analysis.run`` handler on a real queue and worker, fed by a loopback ad server.

Everything is production code except the two edges: the "platform" is a loopback HTTP server
(yt-dlp reaches it through its generic extractors, allowed by the ``allowed_hosts`` seam) and, in
the retry test, the transcriber is wrapped to fail once as an upstream provider would.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from knightvision.job.queue import JobQueue
from knightvision.providers.ad_source.urls import Platform
from knightvision.providers.llm.openai_compat import OpenAICompatChat, OpenAICompatConfig
from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber
from knightvision.providers.transcription.port import (
    Transcriber,
    Transcript,
    TranscriptionError,
)
from knightvision.settings import DEFAULT_PRICES
from tests.fakes.ad_server import AdServer, Reply
from tests.fakes.openai_chat import FakeOpenAIChat, completion
from tests.fakes.openai_chat import Reply as ChatReply
from tests.fixtures.analysis_jobs import (
    analysis_account,
    analysis_engines,
    run_analyses,
    submit_analysis,
)
from tests.fixtures.job_queue import balances

COST = DEFAULT_PRICES["analysis"]
CREDITS = 1000
MAX_BYTES = 1_000_000
ADS = {  # ad id → what its voice-over says (one distinctive word is checked in the transcript)
    3001: ("Fresh bread delivered every morning.", "bread"),
    3002: ("Cheap flights to sunny beaches.", "flights"),
    3003: ("Strong coffee for busy people.", "coffee"),
}


# Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ads(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    """Small real ads: 3 s, captioned scenes and a piper voice-over, rendered by our own
    renderer."""
    from knightvision.render import RenderSpec, load_voice, render_storyboard

    folder = tmp_path_factory.mktemp("ads")
    voice = load_voice()
    rendered = {}
    for ad_id, (script, _) in ADS.items():
        path = folder / f"{ad_id}.mp4"
        render_storyboard(
            RenderSpec(prompt=script, duration=3, width=720, height=720, fps=10), path, voice=voice
        )
        rendered[ad_id] = path.read_bytes()
    return rendered


def _video_page(src: str, title: str = "An ad") -> Reply:
    return Reply.page(
        f'<html><head><title>{title}</title></head><body><video src="{src}"></video></body></html>'
    )


def _mp4(body: bytes, **options: Any) -> Reply:
    return Reply(body=body, content_type="video/mp4", **options)


def _publish(server: AdServer, ad_id: int, body: bytes, title: str = "An ad") -> str:
    """The ad as an Ad Library page with its video on the loopback platform; the page's URL."""
    server.route(f"/ads/library/?id={ad_id}", _video_page(f"/media/{ad_id}.mp4", title=title))
    server.route(f"/media/{ad_id}.mp4", _mp4(body))
    return server.url(f"/ads/library/?id={ad_id}")


# 1. Download failures --------------------------------------------------------------------------

# (name, ad page reply, other routes, error code, retryable): each ends the job at "downloading".
FAILURES = [
    ("404", Reply.page("gone", status=404), {}, "source_unavailable", False),
    ("410", Reply.page("gone", status=410), {}, "source_unavailable", False),
    ("403", Reply.page("forbidden", status=403), {}, "source_unavailable", False),
    ("401", Reply.page("log in", status=401), {}, "source_login_required", False),
    ("503", Reply.page("busy", status=503), {}, "source_unavailable", True),
    (
        "no-video",
        Reply.page(
            "<html><head><title>Text ad</title></head><body><img src='/a.jpg'></body></html>"
        ),
        {},
        "source_unsupported",
        False,
    ),
    (
        "audio-only",
        Reply.page('<html><body><audio src="/media/voice.m4a"></audio></body></html>'),
        {"/media/voice.m4a": Reply(body=b"\0" * 2048, content_type="audio/mp4")},
        "source_not_video",
        False,
    ),
    (
        "not-a-video",
        _video_page("/media/garbage.mp4"),
        {"/media/garbage.mp4": _mp4(b"<html>this is no video</html>" * 50)},
        "source_not_video",
        False,
    ),
    (
        "too-large",
        _video_page("/media/big.mp4"),
        {"/media/big.mp4": _mp4(os.urandom(MAX_BYTES + 200_000))},
        "source_too_large",
        False,
    ),
    (
        "too-large-unsized",
        _video_page("/media/big-chunked.mp4"),
        {"/media/big-chunked.mp4": _mp4(os.urandom(MAX_BYTES + 200_000), content_length=False)},
        "source_too_large",
        False,
    ),
]


async def test_download_failures_end_the_job_with_their_code_and_a_full_refund(
    queue: JobQueue, server: AdServer, hosts: dict[str, Platform], tmp_path: Path
) -> None:
    submitted: dict[str, tuple[str, int]] = {}
    for n, (name, reply, extra, _, _) in enumerate(FAILURES):
        path = f"/ads/library/?id={4000 + n}"
        server.route(path, reply)
        for extra_path, extra_reply in extra.items():
            server.route(extra_path, extra_reply)
        account = await analysis_account(queue)
        submitted[name] = (await submit_analysis(queue, account, server.url(path), hosts), account)
    # A short link that lands on the platform's login page.
    server.route("/share/v/Login/", Reply.redirect("/login/?next=%2Fads"))
    server.route("/login/", Reply.page("please log in"))
    account = await analysis_account(queue)
    submitted["login-redirect"] = (
        await submit_analysis(queue, account, server.url("/share/v/Login/"), hosts),
        account,
    )
    expected = {name: (code, retryable) for name, _, _, code, retryable in FAILURES}
    expected["login-redirect"] = ("source_login_required", False)

    providers = analysis_engines(tmp_path, hosts)
    rows = await run_analyses(queue, providers, [job_id for job_id, _ in submitted.values()])

    for (name, (job_id, account)), row in zip(submitted.items(), rows, strict=True):
        code, retryable = expected[name]
        assert (row.status, row.error_code, row.failed_stage, row.retryable) == (
            "error",
            code,
            "downloading",
            retryable,
        ), (name, row.error, row.last_error)
        assert row.attempts == (3 if retryable else 1), (
            name
        )  # a retryable failure used up its attempts
        assert row.credits_refunded == COST and row.result is None, name
        assert await balances(queue, account) == (CREDITS, CREDITS), name
        assert "http" not in row.error and "ERROR" not in row.error, name  # partner-safe text
        scratch = providers.work_root / job_id / "download"
        assert not scratch.exists() or os.listdir(scratch) == [], (
            name
        )  # nothing half-downloaded left behind
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))  # nothing was cached


async def test_a_platform_that_never_answers_times_out_after_every_attempt(
    queue: JobQueue, server: AdServer, hosts: dict[str, Platform], tmp_path: Path
) -> None:
    server.route("/ads/library/?id=4100", Reply(body=b"late", delay_s=3.0))
    account = await analysis_account(queue)
    job_id = await submit_analysis(queue, account, server.url("/ads/library/?id=4100"), hosts)

    [row] = await run_analyses(queue, analysis_engines(tmp_path, hosts, timeout_s=0.5), [job_id])

    assert (row.status, row.error_code, row.failed_stage, row.retryable, row.attempts) == (
        "error",
        "source_timeout",
        "downloading",
        True,
        3,
    )
    assert row.credits_refunded == COST and await balances(queue, account) == (CREDITS, CREDITS)
    assert server.count("/ads/library/?id=4100") >= 3  # asked once per attempt, at least


# 2. A retry resumes after the last finished stage ----------------------------------------------


class FlakyUpstream:
    """A transcription provider whose first call fails as a busy upstream does; then the real
    one."""

    def __init__(self, real: Transcriber, on_failure: Any) -> None:
        self.real = real
        self.on_failure = on_failure
        self.calls = 0

    def transcribe(self, audio_or_video: Path) -> Transcript:
        self.calls += 1
        if self.calls == 1:
            self.on_failure()
            raise TranscriptionError(
                "transcription_upstream", "The transcription service is busy.", retryable=True
            )
        return self.real.transcribe(audio_or_video)


async def test_a_retried_job_skips_the_stages_it_already_finished(
    queue: JobQueue,
    server: AdServer,
    hosts: dict[str, Platform],
    tmp_path: Path,
    ads: dict[int, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import knightvision.media.frames as frames_module

    # A short link (no cache key until resolved): re-running the download stage would ask the
    # server again even though the video is cached by then, so the request log shows whether it ran.
    server.route("/share/v/Bread/", Reply.redirect("/reel/3001/"))
    server.route("/reel/3001/", _video_page("/media/3001.mp4", title="Bread"))
    server.route("/media/3001.mp4", _mp4(ads[3001]))
    extractions: list[Path] = []
    real_extract = frames_module.extract_frames

    def counting_extract(video: Path, out_dir: Path, **kwargs: Any) -> Any:
        extractions.append(video)
        return real_extract(video, out_dir, **kwargs)

    monkeypatch.setattr(frames_module, "extract_frames", counting_extract)
    account = await analysis_account(queue)
    job_id = await submit_analysis(queue, account, server.url("/share/v/Bread/"), hosts)
    frames_dir = tmp_path / "work" / job_id / "frames"
    at_failure: dict[str, Any] = {}

    def snapshot() -> None:  # what the first attempt left behind, taken as it fails
        at_failure["calls"] = list(server.calls)
        at_failure["frames"] = {p.name: p.stat().st_mtime_ns for p in frames_dir.iterdir()}

    flaky = FlakyUpstream(LocalWhisperTranscriber(), snapshot)
    [row] = await run_analyses(
        queue, analysis_engines(tmp_path, hosts, transcriber=flaky), [job_id]
    )

    assert (row.status, row.attempts, row.credits_refunded) == ("complete", 2, 0), (
        row.error,
        row.last_error,
    )
    assert row.last_error.startswith("transcription_upstream")
    assert await balances(queue, account) == (CREDITS - COST, CREDITS - COST)
    assert server.count("/media/3001.mp4") == 1 and server.count("/share/v/Bread/") == 1
    assert server.calls == at_failure["calls"]  # the second attempt made no request at all
    assert len(extractions) == 1 and flaky.calls == 2
    assert (
        at_failure["frames"]
        and {p.name: p.stat().st_mtime_ns for p in frames_dir.iterdir()} == at_failure["frames"]
    )
    assert set(row.checkpoint) == {"media", "frames", "transcript"}
    assert row.result["source"]["canonical_key"] == "facebook:3001"
    assert "bread" in row.result["transcription"].lower()


# 3. Concurrent analyses ------------------------------------------------------------------------


async def test_concurrent_analyses_each_get_their_own_result_and_one_charge(
    queue: JobQueue,
    server: AdServer,
    hosts: dict[str, Platform],
    tmp_path: Path,
    ads: dict[int, bytes],
) -> None:
    account = await analysis_account(queue)
    job_ids = {}
    for ad_id, body in ads.items():
        url = _publish(server, ad_id, body, title=f"Ad {ad_id}")
        job_ids[ad_id] = await submit_analysis(queue, account, url, hosts)

    rows = await run_analyses(
        queue, analysis_engines(tmp_path, hosts), list(job_ids.values()), slots=2
    )

    for (ad_id, job_id), row in zip(job_ids.items(), rows, strict=True):
        assert (row.status, row.attempts, row.credits_refunded) == ("complete", 1, 0), (
            ad_id,
            row.error,
        )
        result = row.result
        assert result["source"]["canonical_key"] == f"facebook:{ad_id}" and result["source"][
            "title"
        ].startswith(f"Ad {ad_id}"), result["source"]
        word = ADS[ad_id][1]
        assert word in result["transcription"].lower(), (ad_id, result["transcription"])
        assert all(
            other not in result["transcription"].lower()
            for _, other in ADS.values()
            if other != word
        ), ad_id
        assert abs(result["metrics"]["duration_s"] - 3) < 0.3, result["metrics"]["duration_s"]
        assert all(
            f"/{job_id}/frames/" in frame["path"] for frame in row.checkpoint["frames"]["frames"]
        )
        assert server.count(f"/media/{ad_id}.mp4") == 1, server.calls
    assert await balances(queue, account) == (CREDITS - 3 * COST, CREDITS - 3 * COST)
    spans = sorted((row.started_at, row.finished_at) for row in rows)
    assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1)), (
        spans
    )  # two slots ran at once


async def test_a_slow_language_model_leaves_the_slot_to_the_next_analysis(
    queue: JobQueue,
    server: AdServer,
    hosts: dict[str, Platform],
    tmp_path: Path,
    ads: dict[int, bytes],
) -> None:
    """One slot, two analyses, and a model that takes 4 s per reply: while the first job waits
    for its reply, the second is downloaded, decoded and transcribed on the same slot."""
    account = await analysis_account(queue)
    job_ids = []
    for ad_id in (3001, 3002):
        url = _publish(server, ad_id, ads[ad_id])
        job_ids.append(await submit_analysis(queue, account, url, hosts))
    with FakeOpenAIChat() as model_server:
        model_server.script(ChatReply(body=completion("{}"), delay=4.0))
        model = OpenAICompatChat(OpenAICompatConfig(base_url=model_server.base_url, model="slow"))
        engines = replace(analysis_engines(tmp_path, hosts), chat_model=model, llm_timeout_s=30)
        rows = await run_analyses(queue, engines, job_ids, slots=1)

    assert [row.status for row in rows] == ["complete", "complete"], [row.error for row in rows]
    first, second = sorted(rows, key=lambda row: row.started_at)
    assert second.started_at < first.finished_at, (first.finished_at, second.started_at)
    assert len(model_server.requests) == 2  # each job asked the model once
