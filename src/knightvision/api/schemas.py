"""The wire format, pinned to the contract (D1): documents the OpenAPI spec and checks responses in tests.

Handlers build plain dicts for speed; these models are the reference those dicts must satisfy.
Optional fields are the additions of D6–D18; documented fields are required.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_WIRE_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"  # D8
Timestamp = Field(pattern=_WIRE_TIME)
LaterTimestamp = Field(None, pattern=_WIRE_TIME)
RequestId = Field(pattern=r"^[0-9a-f]{12}$")


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Wire):
    request_id: str = RequestId
    error: str
    code: str
    credits_remaining: int | None = None
    credits_required: int | None = None
    retry_after: int | None = None


# Requests --------------------------------------------------------------------------------------


class VideoCreate(BaseModel):
    prompt: str = Field(max_length=2000)
    model: str = "sora-2"
    duration: int | None = Field(None, description="Seconds; valid values depend on the model")
    aspect_ratio: Literal["9:16", "16:9", "1:1"] = "9:16"
    resolution: Literal["720p", "1080p"] = "720p"


class AnalyzeCreate(BaseModel):
    url: str = Field(description="Facebook/Instagram/TikTok ad URL or numeric ad ID")


# Responses ---------------------------------------------------------------------------------------


class Submitted(Wire):
    request_id: str = RequestId
    job_id: str
    status: Literal["queued"]
    credits_used: int
    credits_remaining: int


class JobLifecycle(Wire):
    request_id: str = RequestId
    job_id: str
    status: str
    message: str | None = None
    progress: int = Field(ge=0, le=100)
    credits_used: int
    credits_refunded: int
    created_at: str = Timestamp
    finished_at: str | None = LaterTimestamp
    error: str | None = None
    error_code: str | None = None
    failed_stage: str | None = None
    retryable: bool | None = None


class VideoStatusRead(JobLifecycle):
    status: Literal["queued", "processing", "complete", "error"]
    model: str
    duration: int
    aspect_ratio: str
    resolution: str
    video_url: str | None = None
    width: int | None = None
    height: int | None = None


class VideoListItem(Wire):
    job_id: str
    prompt: str
    model: str
    duration: int
    aspect_ratio: str
    resolution: str
    credits_used: int
    credits_refunded: int
    status: Literal["queued", "processing", "complete", "error"]
    video_url: str | None = None
    created_at: str = Timestamp
    error: str | None = None
    error_code: str | None = None


class VideosRead(Wire):
    request_id: str = RequestId
    videos: list[VideoListItem]


class CreditsRead(Wire):
    request_id: str = RequestId
    credits_remaining: int
    credit_cost_per_analysis: int
    costs: dict[str, int]


class AnalysisResult(BaseModel):
    summary: str
    transcription: str
    analysis: str
    ugc_script: str
    model_config = ConfigDict(extra="allow")  # metrics, breakdown, engine… beside the four strings (D18)


class AnalysisStatusRead(JobLifecycle):
    status: Literal["queued", "downloading", "extracting_frames", "transcribing", "analyzing", "complete", "error"]
    url: str
    platform: str
    result: AnalysisResult | None = None


class Health(Wire):
    request_id: str = RequestId
    status: Literal["ok"]
    version: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Invalid input", 401: "Missing or invalid API key", 402: "Insufficient credits",
        403: "API key deactivated", 404: "Not found or not yours", 429: "Rate limit exceeded",
        500: "Server-side error",
    }.items()
}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI requestBody for a handler that parses its own body (to keep the contract's errors)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}
