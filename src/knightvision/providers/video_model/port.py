"""The port every video model adapter implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class GenerationSpec:
    prompt: str
    duration: int
    width: int
    height: int
    upstream_model: str | None = None


class VideoModelAdapter(Protocol):
    name: str

    def available(self) -> bool:
        """Whether this adapter can take work now (configured, credentials present)."""

    def generate(self, spec: GenerationSpec, output: Path, progress: Callable[[float], None]) -> None:
        """Produce the finished MP4 at ``output``; blocking, run in a worker thread. Raises JobFailure."""


class GenerationError(Exception):
    """An adapter's failure, with a stable code the job reports (``upstream_timeout``, …)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
