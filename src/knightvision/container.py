"""Composition root: everything a server or worker process needs, built from settings.

Nothing here exists at import time; tests build their own container with their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from knightvision.analysis.service import ANALYSIS_JOB_KIND, AnalysisService
from knightvision.character.pipeline import (
    make_character_create_handler,
    make_character_finalize_handler,
)
from knightvision.character.service import (
    CHARACTER_CREATE,
    CHARACTER_FINALIZE,
    CharacterDirectory,
    CharacterService,
)
from knightvision.character.upstream import character_upstream
from knightvision.db.engine import create_engine
from knightvision.db.hot_reads import HotReads
from knightvision.idempotency.store import IdempotencyStore
from knightvision.job.queue import JobQueue, QueuePolicy
from knightvision.providers.storage.factory import build_storage
from knightvision.providers.storage.port import MediaStorage
from knightvision.providers.video_model.port import VideoModelAdapter
from knightvision.ratelimit.limiter import RateLimiter
from knightvision.settings import Settings
from knightvision.video.models import ModelRegistry
from knightvision.video.pipeline import make_video_handler
from knightvision.video.service import VIDEO_JOB_KIND, VideoService
from knightvision.video.upstreams import build_model_registry, build_video_adapters
from knightvision.webhooks.delivery import DeliveryPolicy, WebhookDelivery
from knightvision.webhooks.endpoints import WebhookEndpoints
from knightvision.webhooks.events import WEBHOOK_DELIVER, JobEvents, Outbox
from knightvision.webhooks.feed import EventsFeed
from knightvision.worker.runner import JobHandler, WorkerRunner


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    queue: JobQueue
    limiter: RateLimiter
    storage: MediaStorage
    registry: ModelRegistry
    adapters: dict[str, VideoModelAdapter]
    videos: VideoService
    analyses: AnalysisService
    characters: CharacterService
    reads: HotReads
    idempotency: IdempotencyStore
    outbox: Outbox
    webhooks: WebhookEndpoints
    events: EventsFeed
    runner: WorkerRunner | None = None

    @classmethod
    def build(cls, settings: Settings) -> Container:
        engine = create_engine(
            settings.async_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        queue = JobQueue(
            engine,
            QueuePolicy(
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.max_attempts,
                timeout_seconds=settings.job_timeout_seconds,
            ),
        )
        registry = build_model_registry(settings)
        # An adapter without credentials is unavailable: its models answer 500 "Video generation
        # not available" with nothing charged (D15).
        adapters = build_video_adapters(settings)
        storage = build_storage(settings)
        reads = HotReads(engine, postgres_pool_size=settings.database_pool_size)
        videos = VideoService(
            engine,
            reads,
            queue,
            registry,
            adapters,
            settings.price_table,
            settings.base_url,
            characters=CharacterDirectory(engine),
        )
        characters = CharacterService(
            engine,
            queue,
            adapters,
            settings.price_table,
            settings.base_url,
            character_upstream(settings.character_route),
        )
        analyses = AnalysisService(engine, reads, queue, settings.price_table)
        outbox = Outbox(
            queue,
            {
                ANALYSIS_JOB_KIND: JobEvents(
                    "analysis.completed", "analysis.failed", analyses.event_view
                ),
                VIDEO_JOB_KIND: JobEvents("video.completed", "video.failed", videos.event_view),
                CHARACTER_CREATE: JobEvents(
                    "character.ready", "character.failed", characters.event_view
                ),
                CHARACTER_FINALIZE: JobEvents(
                    "character.finalized", "character.failed", characters.event_view
                ),
            },
            # credits.low: the balance can no longer pay for one analysis
            credits_low_below=settings.price_table["analysis"],
        )
        # The outbox is written in the transactions that end jobs and debit accounts.
        queue.on_finish = outbox.job_finished
        queue.on_debit = outbox.debited
        return cls(
            settings=settings,
            engine=engine,
            queue=queue,
            limiter=RateLimiter(
                settings.redis_url, redis_max_connections=settings.redis_max_connections
            ),
            storage=storage,
            registry=registry,
            adapters=adapters,
            videos=videos,
            characters=characters,
            analyses=analyses,
            reads=reads,
            idempotency=IdempotencyStore(engine),
            outbox=outbox,
            webhooks=WebhookEndpoints(engine, allow_private=settings.webhook_allow_private),
            events=EventsFeed(engine, outbox),
        )

    def job_handlers(self) -> dict[str, JobHandler]:
        """Built only where jobs run: the analysis engines load yt-dlp, Whisper and OpenCV."""
        from knightvision.analysis.engines import build_analysis_engines
        from knightvision.analysis.pipeline import make_analysis_handler

        return {
            VIDEO_JOB_KIND: make_video_handler(self.adapters, self.storage),
            CHARACTER_CREATE: make_character_create_handler(self.adapters, self.storage),
            CHARACTER_FINALIZE: make_character_finalize_handler(self.adapters, self.storage),
            ANALYSIS_JOB_KIND: make_analysis_handler(build_analysis_engines(self.settings)),
            WEBHOOK_DELIVER: self.webhook_delivery(),
        }

    def webhook_delivery(self) -> WebhookDelivery:
        """The ``webhook.deliver`` job's handler."""
        return WebhookDelivery(
            self.engine,
            self.outbox,
            DeliveryPolicy(
                allow_private=self.settings.webhook_allow_private,
                timeout_seconds=self.settings.webhook_timeout_seconds,
                retry_schedule=tuple(self.settings.webhook_retry_schedule),
                disable_after_seconds=self.settings.webhook_disable_after_seconds,
            ),
        )

    def wake_workers(self) -> None:
        """Nudge the in-process worker, if any, so a new job starts without waiting for a poll."""
        if self.runner is not None:
            self.runner.wake()

    def worker(self, slots: int, worker_id: str | None = None) -> WorkerRunner:
        return WorkerRunner(
            self.queue,
            self.job_handlers(),
            slots=slots,
            poll_interval=self.settings.poll_interval_seconds,
            worker_id=worker_id,
        )

    async def close(self) -> None:
        await self.reads.aclose()
        await self.limiter.close()
        await self.engine.dispose()
