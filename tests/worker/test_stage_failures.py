"""Any provider's failure becomes the job's failure at the stage it happened in, one way."""

from __future__ import annotations

import pytest

from knightvision.job.errors import JobFailure, job_stage
from knightvision.job.queue import JobQueue
from knightvision.job.status import JobStatus
from knightvision.kit.errors import ProviderError
from knightvision.media.segment import SegmentError
from knightvision.providers.ad_source import SourceError
from knightvision.providers.llm.port import LLMError
from knightvision.providers.transcription.port import TranscriptionError
from knightvision.providers.video_model.port import GenerationError
from knightvision.providers.video_model.transforms import ShapeError
from knightvision.providers.video_model.upstream_http import LinkExpired, RateLimited, TaskGone
from knightvision.worker.context import JobContext
from knightvision.worker.runner import WorkerRunner
from tests.fixtures.job_queue import COST, KIND, claim, job_row

PROVIDER_ERRORS = [
    pytest.param(SourceError("source_timeout", "The ad took too long", True), id="source"),
    pytest.param(GenerationError("upstream_timeout", "kie timed out", retryable=True), id="gen"),
    pytest.param(RateLimited("kie", 3.0), id="rate-limited"),
    pytest.param(TaskGone("kie", "task-1"), id="task-gone"),
    pytest.param(LinkExpired("kie", 410), id="link-expired"),
    pytest.param(TranscriptionError("transcription_media", "No audio"), id="transcription"),
    pytest.param(LLMError("llm_timeout", "The model is slow", retryable=True), id="llm"),
    pytest.param(SegmentError("cannot read a.mp4"), id="segment"),
    pytest.param(ShapeError("shorter than asked for"), id="shape"),
]


@pytest.mark.parametrize("error", PROVIDER_ERRORS)
def test_each_provider_error_becomes_a_job_failure_at_the_named_stage(
    error: ProviderError,
) -> None:
    with pytest.raises(JobFailure) as caught, job_stage("transcribing"):
        raise error
    failure = caught.value
    assert (failure.code, failure.message, failure.retryable, failure.stage) == (
        error.code,
        error.message,
        error.retryable,
        "transcribing",
    )
    assert failure.__cause__ is error


def test_from_error_is_the_same_translation() -> None:
    error = GenerationError("moderation_blocked", "Blocked by the upstream's safety filters")
    failure = JobFailure.from_error(error, stage="registering")
    # The partner reads the fixed sentence for the code; the upstream's words stay in ``detail``.
    assert (failure.code, failure.message, failure.retryable, failure.stage) == (
        "moderation_blocked",
        "The video provider's content filter refused the prompt or the render",
        False,
        "registering",
    )


def test_errors_that_are_not_a_providers_pass_through_unchanged() -> None:
    with pytest.raises(KeyError), job_stage("generating"):
        raise KeyError("a bug, not a provider failure")
    with job_stage("generating"):
        pass  # a stage that succeeds is not touched


def test_provider_errors_keep_their_text_and_fields() -> None:
    assert str(LLMError("llm_auth", "Bad key")) == "llm_auth: Bad key"
    assert str(TranscriptionError("transcription_auth", "Bad key")) == "transcription_auth: Bad key"
    # An upstream's words are its detail (logged, shown by str()); the partner gets the sentence.
    broke = GenerationError("upstream_failed", "It broke")
    assert (str(broke), broke.detail) == ("upstream_failed: It broke", "It broke")
    assert broke.message.startswith("The render failed at the video provider")
    source = SourceError("source_timeout", "Slow", True, detail="yt-dlp said so")
    assert (str(source), source.retryable, source.detail) == ("Slow", True, "yt-dlp said so")
    assert repr(source) == "SourceError('source_timeout', 'Slow', retryable=True)"
    assert RateLimited("kie", 2.5).retry_after == 2.5
    with pytest.raises(ValueError, match="unknown source error code"):
        SourceError("not_a_code", "x")


async def test_a_failed_stage_ends_the_job_there_with_a_refund(queue: JobQueue) -> None:
    async def transcribe(context: JobContext) -> dict[str, object]:
        await context.report(status=JobStatus.TRANSCRIBING, progress=40)
        with job_stage("transcribing"):
            raise TranscriptionError("transcription_media", "The ad has no readable audio")

    job = await claim(queue)
    await WorkerRunner(queue, {KIND: transcribe}, slots=1, poll_interval=0.1).execute(job)

    row = await job_row(queue, job.id)
    assert (row.status, row.error_code, row.error, row.failed_stage, row.retryable) == (
        "error",
        "transcription_media",
        "The ad has no readable audio",
        "transcribing",
        False,
    )
    assert (row.credits_used, row.credits_refunded) == (COST, COST)


async def test_a_retryable_stage_failure_is_retried_later(queue: JobQueue) -> None:
    async def download(context: JobContext) -> dict[str, object]:
        with job_stage("downloading"):
            raise SourceError("source_timeout", "The ad took too long", True)

    job = await claim(queue)
    await WorkerRunner(queue, {KIND: download}, slots=1, poll_interval=0.1).execute(job)

    row = await job_row(queue, job.id)
    assert row.finished_at is None and row.last_error == "source_timeout: The ad took too long"
