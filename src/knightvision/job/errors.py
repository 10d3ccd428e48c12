"""How a job step says it failed: a stable code, a human message, and whether to try again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from knightvision.kit.errors import ProviderError


class JobFailure(Exception):
    def __init__(
        self, code: str, message: str, *, retryable: bool = False, stage: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.stage = stage

    @classmethod
    def from_error(cls, error: ProviderError, *, stage: str) -> JobFailure:
        """The provider's own code, message and retry advice, reported at ``stage``."""
        return cls(error.code, error.message, retryable=error.retryable, stage=stage)


@contextmanager
def job_stage(stage: str) -> Iterator[None]:
    """Run a provider call as one stage of a job: its failure becomes the job's failure there."""
    try:
        yield
    except ProviderError as error:
        raise JobFailure.from_error(error, stage=stage) from error
