"""The ad-source port: turn an accepted ad URL into a local video file, or say clearly why not.

Sources are blocking (the pipeline runs them in a thread). Every failure is a ``SourceError``
whose code the job reports as its ``error_code`` (D17); ``retryable`` tells the queue whether
another attempt could succeed (a timeout, a 5xx) or is pointless (a removed ad).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from knightvision.kit.errors import ProviderError
from knightvision.providers.ad_source.urls import AdRef

SOURCE_UNAVAILABLE = "source_unavailable"
SOURCE_LOGIN_REQUIRED = "source_login_required"
SOURCE_NOT_VIDEO = "source_not_video"
SOURCE_TOO_LARGE = "source_too_large"
SOURCE_UNSUPPORTED = "source_unsupported"
SOURCE_TIMEOUT = "source_timeout"
SOURCE_CODES = frozenset(
    {
        SOURCE_UNAVAILABLE,
        SOURCE_LOGIN_REQUIRED,
        SOURCE_NOT_VIDEO,
        SOURCE_TOO_LARGE,
        SOURCE_UNSUPPORTED,
        SOURCE_TIMEOUT,
    }
)


class SourceError(ProviderError):
    """Why an ad could not be fetched. ``message`` is safe to show a partner; ``detail`` is for
    logs."""

    def __init__(
        self, code: str, message: str, retryable: bool = False, *, detail: str | None = None
    ) -> None:
        if code not in SOURCE_CODES:
            raise ValueError(f"unknown source error code {code!r}")
        super().__init__(code, message, retryable=retryable)
        self.detail = detail

    def __repr__(self) -> str:
        return f"SourceError({self.code!r}, {self.message!r}, retryable={self.retryable})"


@dataclass(frozen=True)
class FetchedMedia:
    """A downloaded ad video. ``carousel``: the ad had several cards and this is its first video."""

    path: Path
    canonical_key: str
    platform: str
    source_url: str
    title: str | None
    carousel: bool
    duration: float | None


class AdSource(Protocol):
    def resolve(self, ref: AdRef) -> AdRef:
        """``ref`` with its canonical key: short links are followed (cheaply, no media download)
        so a cached ad is found before downloading. A keyed ``ref`` comes back unchanged."""

    def fetch(self, ref: AdRef, dest_dir: Path) -> FetchedMedia:
        """Download the ad's video into ``dest_dir``. Blocking. Raises ``SourceError``."""
