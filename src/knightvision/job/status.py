"""The statuses a job shows partners; the values are the wire strings (D13)."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    # Video jobs and character creation.
    PROCESSING = "processing"
    # The analysis stages, in order (D17).
    DOWNLOADING = "downloading"
    EXTRACTING_FRAMES = "extracting_frames"
    TRANSCRIBING = "transcribing"
    ANALYZING = "analyzing"
    # Character finalize.
    FINALIZING = "finalizing"
    COMPLETE = "complete"
    ERROR = "error"
