"""How a job step says it failed: a stable code, a human message, and whether to try again; and
how its work learns it must stop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


class JobParked(Exception):
    """The job waits on a remote task it already started: hand the slot and the lease back and
    make the job claimable again in ``delay`` seconds, with ``checkpoint`` merged into its own
    (what it needs to resume the wait, e.g. the poll cadence). Its next run resumes from there."""

    def __init__(self, delay: float, checkpoint: dict[str, Any]) -> None:
        super().__init__(f"parked for {delay:.1f} s")
        self.delay = max(0.0, delay)
        self.checkpoint = checkpoint


# Why a job's work was told to stop before it finished (``JobStopped.reason``).
SHUTDOWN = "shutdown"  # the worker stops: the lease goes back, the attempt is not counted
TIMEOUT = "timeout"  # past its deadline: error and refund, like any timeout
CANCELLED = "cancelled"  # the partner cancelled it (``job.cancel``)


class JobStopped(Exception):
    """Raised inside a job's work (its render thread at the next frame, its pipeline at the next
    stage) once the job was told to stop; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"stopped: {reason}")
        self.reason = reason
