"""The price table (D12) and the rate-limit buckets with their per-key table (D5): defaults the
operator may override. Plain data: settings read it, so it imports nothing of ours."""

from __future__ import annotations

from enum import StrEnum

DEFAULT_PRICES: dict[str, int] = {
    "analysis": 50,
    "video_sora2_10s": 22,
    "video_sora2_15s": 25,
    "video_sora2pro_15s": 154,
    "video_sora2pro_25s": 175,
    "video_kling_per_second_720p": 10,
    "video_kling_per_second_1080p": 13,
    "character_creation": 22,
    "character_finalize": 3,
    "video_local_storyboard_per_second": 1,
}


class RateLimitBucket(StrEnum):
    """One moving window per bucket and identity: an API key for endpoints, else an address."""

    ANALYZE = "analyze"
    STATUS = "status"
    CREDITS = "credits"
    GENERATE_VIDEO = "generate_video"
    VIDEO_STATUS = "video_status"
    VIDEOS = "videos"
    ANALYSES = "analyses"  # GET /analyses (an addition)
    ESTIMATE = "estimate"  # POST /estimate (an addition)
    CHARACTERS = "characters"  # GET and POST /characters share one bucket
    CHARACTER = "character"
    CHARACTER_FINALIZE = "character_finalize"
    WEBHOOKS = "webhooks"  # every /webhooks route (an addition)
    EVENTS = "events"  # GET /events and POST /events/<id>/redeliver (an addition)
    CANCEL = "cancel"
    # Per client address, with their limits in the settings (not per key, not overridable per key).
    AUTH_FAILURES = "auth_failures"
    STATIC_MISSES = "static_misses"


# Requests per moving 60-second window, per API key and endpoint. Plain string keys: the table is
# written to JSON as it is (``keys limits``, settings errors).
DEFAULT_RATE_LIMITS: dict[str, int] = {
    RateLimitBucket.ANALYZE.value: 20,
    RateLimitBucket.STATUS.value: 60,
    RateLimitBucket.CREDITS.value: 30,
    RateLimitBucket.GENERATE_VIDEO.value: 5,
    RateLimitBucket.VIDEO_STATUS.value: 60,
    RateLimitBucket.VIDEOS.value: 20,
    RateLimitBucket.ANALYSES.value: 20,
    RateLimitBucket.ESTIMATE.value: 60,
    RateLimitBucket.CHARACTERS.value: 20,
    RateLimitBucket.CHARACTER.value: 30,
    RateLimitBucket.CHARACTER_FINALIZE.value: 10,
    RateLimitBucket.WEBHOOKS.value: 20,
    RateLimitBucket.EVENTS.value: 60,
    RateLimitBucket.CANCEL.value: 30,
}
