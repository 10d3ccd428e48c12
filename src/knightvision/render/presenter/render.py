"""Rendering a presenter video to an MP4: the composer's frames over a silent track."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..encode import Mp4Writer
from ..spec import PROGRESS_EVERY, PresenterSpec
from ..speech import silent_track
from .composer import PresenterComposer
from .look import PresenterLook


@dataclass(frozen=True)
class PresenterReport:
    """What was rendered, the look it showed, and where the time went (seconds per phase)."""

    path: Path
    duration: float
    width: int
    height: int
    look: PresenterLook
    seconds_spent: dict[str, float] = field(default_factory=dict)


def render_presenter(
    spec: PresenterSpec, out_path: Path, *, progress: Callable[[float], None] | None = None
) -> PresenterReport:
    """Render the presenter video to an MP4 at out_path (never leaves half a file behind)."""
    report_progress = progress or (lambda fraction: None)
    report_progress(0.0)
    out_path = Path(out_path)
    started = time.perf_counter()
    composer = PresenterComposer(spec)
    prepared = time.perf_counter()
    writer = Mp4Writer(out_path, spec.width, spec.height, spec.fps)
    try:
        track = silent_track(spec.duration)
        writer.set_audio(track.samples, track.sample_rate)
        for index in range(composer.total_frames):
            writer.write_frame(composer.frame(index))
            if index % PROGRESS_EVERY == 0:
                report_progress(0.97 * (index + 1) / composer.total_frames)
        writer.close()
    except BaseException:
        writer.abort()
        out_path.unlink(missing_ok=True)
        raise
    report_progress(1.0)
    return PresenterReport(
        path=out_path,
        duration=composer.total_frames / spec.fps,
        width=spec.width,
        height=spec.height,
        look=composer.look,
        seconds_spent={
            "prepare": prepared - started,
            "frames+encode": time.perf_counter() - prepared,
        },
    )
