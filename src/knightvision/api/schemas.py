"""The wire format, pinned to the contract (D1): documents the OpenAPI spec, checks responses in
tests.

Handlers build plain dicts for speed; these models are the reference those dicts must satisfy.
Request bodies are described by ``request_schemas``, from the parsers' own constants.
Optional fields are the additions of D6–D18; documented fields are required.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knightvision.idempotency.store import KEY_PATTERN, MAX_KEY_CHARS

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
    # What to fix, on a 400 (additions): the field at fault and the values or limits it accepts.
    param: str | None = Field(None, description="the request field or parameter at fault")
    allowed: list[str | int] | None = Field(None, description="the values the field accepts")
    max_length: int | None = Field(None, description="the most characters the text may have")
    max_items: int | None = Field(None, description="the most items the list may have")
    minimum: int | None = Field(None, description="the smallest value accepted")
    maximum: int | None = Field(None, description="the largest value accepted")
    min_span: int | None = Field(None, description="the shortest segment, in seconds")
    max_span: int | None = Field(None, description="the longest segment, in seconds")
    pattern: str | None = Field(None, description="the regular expression the text must match")


# Responses ---------------------------------------------------------------------------------------


class Submitted(Wire):
    request_id: str = RequestId
    job_id: str
    status: Literal["queued"]
    credits_used: int
    credits_remaining: int


class JobFields(Wire):
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
    # Only on a cancelled job: whether an upstream had already billed its render (no refund).
    upstream_billed: bool | None = None


class JobLifecycle(JobFields):
    request_id: str = RequestId


class RenderNotes(Wire):
    """What the renderer could not do as asked; absent when everything was (D13)."""

    undrawable_characters: list[str] = Field(
        default_factory=list,
        description="caption characters no bundled font has, drawn as boxes, once each",
    )
    unspoken_text: list[str] = Field(
        default_factory=list,
        description="scene texts in a script the bundled voice cannot read: shown, not spoken",
    )


TestMode = Field(None, description="made with a test-mode key: rendered or analysed offline")


class VideoStatusRead(JobLifecycle):
    status: Literal["queued", "processing", "complete", "error"]
    model: str
    duration: int
    aspect_ratio: str
    resolution: str
    video_url: str | None = None
    width: int | None = None
    height: int | None = None
    render_notes: RenderNotes | None = None
    test_mode: bool | None = TestMode


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
    test_mode: bool | None = TestMode


HasMore = Field(description="whether items follow; pass the last one's id as starting_after")


class VideosRead(Wire):
    request_id: str = RequestId
    videos: list[VideoListItem]
    has_more: bool = HasMore


CharacterStatus = Literal["processing", "ready", "failed", "finalizing", "finalized"]


class CharacterSubmitted(Wire):
    request_id: str = RequestId
    character_id: int
    status: Literal["processing"]
    credits_used: int
    credits_remaining: int


class FinalizeSubmitted(Wire):
    request_id: str = RequestId
    status: Literal["finalizing"]
    credits_used: int
    credits_remaining: int


class CharacterSummary(Wire):
    id: int
    name: str
    status: CharacterStatus
    aspect_ratio: str
    created_at: str = Timestamp
    duration: int | None = None  # once ready (D13)
    video_url: str | None = None  # once ready (D13)
    error: str | None = None  # failed, or the last finalize failed
    error_code: str | None = None
    failed_stage: str | None = None
    retryable: bool | None = None


class CharacterFinalizeState(Wire):
    status: Literal["finalizing", "finalized", "failed"]
    timestamp_start: int
    timestamp_end: int
    character_prompt: str
    credits_used: int
    credits_refunded: int
    created_at: str = Timestamp
    finished_at: str | None = LaterTimestamp
    error: str | None = None
    error_code: str | None = None


class CharacterDetail(CharacterSummary):
    prompt: str
    credits_used: int
    credits_refunded: int
    width: int | None = None
    height: int | None = None
    finalize: CharacterFinalizeState | None = None


class CharactersRead(Wire):
    request_id: str = RequestId
    characters: list[CharacterSummary]
    has_more: bool = HasMore


class CharacterRead(Wire):
    request_id: str = RequestId
    character: CharacterDetail


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
    model_config = ConfigDict(
        extra="allow"
    )  # metrics, breakdown, engine… beside the four strings (D18)


class AnalysisSummary(JobFields):
    """An analysis as ``GET /analyses`` lists it: its status read without the result."""

    status: Literal[
        "queued",
        "downloading",
        "extracting_frames",
        "transcribing",
        "analyzing",
        "complete",
        "error",
    ]
    url: str
    platform: str
    test_mode: bool | None = TestMode


class AnalysisStatusRead(AnalysisSummary):
    request_id: str = RequestId
    result: AnalysisResult | None = None


class AnalysesRead(Wire):
    request_id: str = RequestId
    analyses: list[AnalysisSummary]
    has_more: bool = HasMore


class EstimateRead(Wire):
    request_id: str = RequestId
    endpoint: str = Field(description="the submit priced, as asked")
    credits_required: int = Field(description="what that submit would charge now")
    credits_remaining: int = Field(description="the account's balance now")
    sufficient: bool = Field(description="whether the balance covers the price")


class Health(Wire):
    request_id: str = RequestId
    status: Literal["ok"]
    version: str


_ERROR_DESCRIPTIONS = {
    400: "Invalid input",
    401: "Missing or invalid API key",
    402: "Insufficient credits",
    403: "API key deactivated",
    404: "Not found or not yours",
    408: "The request body did not arrive in time",
    409: "A request with this Idempotency-Key is in progress",
    413: "Request body too large",
    422: "This Idempotency-Key was used with a different request body",
    429: "Rate limit exceeded",
    500: "Server-side error",
    503: "Try again after Retry-After: a dependency is unreachable or the server is at capacity",
}
# Every partner call can be refused for its key (401, 403), its rate (429), or for now (503).
_GUARDED = (401, 403, 429, 503)
# A call with a body: too slow (408) or too large (413).
WITH_BODY = (408, 413)
# What a paid submit may answer beyond its own checks: the charge, Idempotency-Key, the body.
PAID_SUBMIT = (400, 402, 409, 422, *WITH_BODY)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The errors an operation really sends: ``statuses`` and the guard's, in the error shape."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS[status]}
        for status in sorted({*statuses, *_GUARDED})
    }


def json_body(
    schema: dict[str, Any], *, required: bool = True, idempotent: bool = False
) -> dict[str, Any]:
    """An OpenAPI requestBody for a handler that parses its own body (to keep the contract's
    errors); the schemas are in ``request_schemas``. ``idempotent``: the paid submits, which take
    an ``Idempotency-Key`` header."""
    extra: dict[str, Any] = {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }
    }
    if idempotent:
        extra["parameters"] = [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_CHARS,
                    "pattern": f"^{KEY_PATTERN}$",
                },
                "description": "Retry with the same key and body: the first reply, charged once",
            }
        ]
    return extra


JOB_FINISHED_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The job already finished (cancel)"}
}
