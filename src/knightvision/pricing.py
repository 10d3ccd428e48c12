"""The price table (D12) and the per-endpoint rate-limit table (D5): defaults the operator may override."""

from __future__ import annotations

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

# Requests per moving 60-second window, per API key and endpoint.
DEFAULT_RATE_LIMITS: dict[str, int] = {
    "analyze": 20,
    "status": 60,
    "credits": 30,
    "generate_video": 5,
    "video_status": 60,
    "videos": 20,
    "characters": 20,  # GET and POST /characters share one bucket
    "character": 30,
    "character_finalize": 10,
}
