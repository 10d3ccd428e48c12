"""Errors with a status, a stable code and the partner-facing message (D6).

Services raise these; one handler in the API renders them as
``{"error": …, "code": …, "request_id": …}`` plus any extra fields.
"""

from __future__ import annotations

from typing import Any


class KVError(Exception):
    status = 500
    code = "internal_error"
    message = "Internal server error"
    headers: dict[str, str] | None = None  # extra response headers, e.g. Retry-After

    def __init__(
        self, message: str | None = None, *, code: str | None = None, **extra: Any
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}


class BadRequestError(KVError):
    status = 400
    code = "bad_request"
    message = "Bad request"


class InvalidJSONError(BadRequestError):
    code = "invalid_json"
    message = "Request body must be JSON"


class InvalidJobIdError(BadRequestError):
    code = "invalid_job_id"
    message = "Invalid job ID"


class InvalidLimitError(BadRequestError):
    code = "invalid_limit"
    message = "Invalid limit"


class InvalidCursorError(BadRequestError):
    code = "invalid_starting_after"
    message = "Invalid starting_after"

    def __init__(self) -> None:
        super().__init__(param="starting_after")


class MissingAuthError(KVError):
    status = 401
    code = "missing_auth"
    message = "Missing or invalid Authorization header"


class InvalidApiKeyError(KVError):
    status = 401
    code = "invalid_api_key"
    message = "Invalid API key"


class InsufficientCreditsError(KVError):
    status = 402
    code = "insufficient_credits"
    message = "Insufficient credits"

    def __init__(self, *, credits_remaining: int, credits_required: int) -> None:
        super().__init__(credits_remaining=credits_remaining, credits_required=credits_required)


class KeyDeactivatedError(KVError):
    status = 403
    code = "key_deactivated"
    message = "API key deactivated"


class JobNotFoundError(KVError):
    status = 404
    code = "job_not_found"
    message = "Job not found"


class NotFoundError(KVError):
    status = 404
    code = "not_found"
    message = "Not found"


class MethodNotAllowedError(KVError):
    status = 405
    code = "method_not_allowed"
    message = "Method not allowed"


class BodyTimeoutError(KVError):
    """The request body did not arrive within ``body_timeout_seconds`` of its head (ADR 0007):
    answered, then the connection is closed (the rest of the body may still be on its way)."""

    status = 408
    code = "body_timeout"
    message = "Request body not received in time"

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"Connection": "close"}


class JobFinishedError(KVError):
    """A cancel for a job that already ended (complete, or in error for another reason)."""

    status = 409
    code = "job_finished"
    message = "The job has already finished"


class BodyTooLargeError(KVError):
    status = 413
    code = "body_too_large"
    message = "Request body too large"


class RangeNotSatisfiableError(KVError):
    status = 416
    code = "range_not_satisfiable"
    message = "Requested range not satisfiable"

    def __init__(self, *, size: int) -> None:
        super().__init__()
        self.headers = {"Content-Range": f"bytes */{size}"}  # the file's length (RFC 9110)


class IdempotencyInFlightError(KVError):
    status = 409
    code = "idempotency_key_in_flight"
    message = "A request with this Idempotency-Key is in progress"

    def __init__(self) -> None:
        super().__init__(param="Idempotency-Key")
        self.headers = {"Retry-After": "1"}


class IdempotencyMismatchError(KVError):
    status = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request body"

    def __init__(self) -> None:
        super().__init__(param="Idempotency-Key")


class RateLimitedError(KVError):
    status = 429
    code = "rate_limited"
    message = "Rate limit exceeded"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class GenerationUnavailableError(KVError):
    status = 500
    code = "generation_unavailable"
    message = "Video generation not available"


class DependencyUnavailableError(KVError):
    """The database or Redis cannot be reached: try again shortly (ADR 0004)."""

    status = 503
    code = "dependency_unavailable"
    message = "Service temporarily unavailable"
    retry_after = 5

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"Retry-After": str(self.retry_after)}


class ServerBusyError(KVError):
    """Every connection this process accepts at once is taken (``max_connections``, ADR 0007)."""

    status = 503
    code = "server_busy"
    message = "Server busy"
    retry_after = 2

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"Retry-After": str(self.retry_after), "Connection": "close"}


class OperatorError(Exception):
    """A mistake in an operator command (CLI): shown as a message, never a traceback."""
