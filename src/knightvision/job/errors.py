"""How a job step says it failed: a stable code, a human message, and whether to try again."""

from __future__ import annotations


class JobFailure(Exception):
    def __init__(
        self, code: str, message: str, *, retryable: bool = False, stage: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.stage = stage
