"""The `extracting_frames` stage: shot cuts and keyframe thumbnails, in one decode pass.

Every frame is decoded once with PyAV and scaled to a small BGR image (about 160 px wide) that
feeds two PySceneDetect detectors through their frame API:

* ``ContentDetector`` on every frame finds hard cuts to the exact frame;
* gradual transitions (dissolves, cross-fades) change too little between neighbouring frames for
  it, so the same content score (mean HSV change) is also taken between frames sampled about 6
  times a second: a short run of samples that all change several times more than the
  surrounding ±2 s (a moving camera raises that baseline) and that add up to at least the
  hard-cut threshold is one transition, timed at the centre of its per-frame luma change.
  (PySceneDetect's ``AdaptiveDetector`` misses these: a fade spanning two or more samples raises
  its own neighbourhood average.)

Times are seconds from the container's start, read from each frame's own timestamp (variable
frame rates and a video that starts after its audio stay true), and the duration runs to the end
of the longest stream (see :mod:`knightvision.media.probe`). Damaged packets are skipped and the
file's problems are kept as ``warnings`` (``decode_errors``, ``truncated``).

A cut's time is the start of the new shot in seconds (for a dissolve: its middle). Meanwhile
320 px wide JPEG candidates are kept in memory every 1/4 s; once the shots are known we write one
keyframe per shot (the candidate nearest mid-shot, kind ``shot``) plus a regular sample every
``sample_interval`` seconds (kind ``sample``; the interval grows so at most ``max_samples`` are
written). Frames within 0.3 s of a dissolve's centre are skipped (a sample moves to the next clear
candidate in its interval), since they show two shots blended. The result is a
:class:`FrameSet`, plain data that round-trips through JSON so the job can checkpoint it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from knightvision.media.decode import DecodeLog, decode_tolerantly
from knightvision.media.probe import MediaInfo, NotAVideo, display_size, probe, video_stream

__all__ = ["FrameSet", "extract_frames", "media_warnings", "rotate_image"]

#: Width of the images the cut detectors see.
DETECT_WIDTH = 160
#: Rate at which frames are sampled to find gradual transitions.
SOFT_RATE = 6.0
#: A sample step is part of a transition when its content change is at least this, and at least
#: GRADUAL_RATIO times the median change of the samples within GRADUAL_CONTEXT_S around it.
GRADUAL_MIN_STEP = 4.0
GRADUAL_RATIO = 4.0
GRADUAL_CONTEXT_S = 2.0
#: Longest transition considered (longer runs of change are motion, not a cut).
GRADUAL_MAX_S = 2.0
#: Hard cuts: PySceneDetect's default content threshold; minimum shot length in seconds.
HARD_THRESHOLD = 27.0
MIN_SHOT_SECONDS = 0.3
#: A hard cut's frame changes this many times more than any of its 3 neighbours on each side.
SPIKE_RATIO = 2.5
#: A gradual cut this close to a hard cut is the same transition.
MERGE_SECONDS = 0.5
#: Thumbnail candidates per second (mid-shot keyframes are picked among them).
CANDIDATE_RATE = 4.0
#: Samples are not taken this close to the centre of a gradual transition.
TRANSITION_GUARD = 0.3
THUMB_WIDTH = 320
JPEG_QUALITY = 85
#: Names this module's output for the analysis stage cache: change it with any change to what
#: ``extract_frames`` returns or writes for the same media and arguments.
FRAMES_VERSION = "frames-1"


@dataclass
class FrameSet:
    """What the frames stage found; every field is plain JSON data (see :meth:`to_dict`).

    ``cuts``: shot boundaries in seconds, ascending (0 and the end are not cuts).
    ``transitions``: the same cuts with ``kind`` ``hard`` or ``gradual``.
    ``shots``: ``{index, start_s, end_s}`` covering the whole video.
    ``frames``: saved thumbnails ``{time_s, path, kind, shot}`` in time order; ``kind`` is
    ``shot`` (one per shot, nearest mid-shot) or ``sample`` (every ``sample_interval_s``).
    ``width``/``height`` are display dimensions (sample aspect ratio and rotation tag applied).
    ``warnings``: ``{code, message, ...}`` for what a player would hide (``decode_errors``,
    ``truncated``).
    """

    duration_s: float
    fps: float
    width: int
    height: int
    frame_count: int
    rotation: int
    cuts: list[float]
    transitions: list[dict[str, Any]]
    shots: list[dict[str, Any]]
    frames: list[dict[str, Any]]
    sample_interval_s: float
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameSet:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})

    def frame_times(self, kinds: tuple[str, ...] = ("shot", "sample")) -> list[float]:
        return [f["time_s"] for f in self.frames if f["kind"] in kinds]

    def shot_at(self, seconds: float) -> int:
        for shot in self.shots:
            if shot["start_s"] <= seconds < shot["end_s"]:
                return int(shot["index"])
        return int(self.shots[-1]["index"]) if self.shots else 0


def rotate_image(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, as PyAV reports it)."""
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _small_size(width: int, height: int, target: int) -> tuple[int, int]:
    scale = target / width
    return target, max(2, round(height * scale / 2) * 2)


def _to_small(
    reformatter: VideoReformatter, frame: av.VideoFrame, width: int, height: int
) -> np.ndarray:
    out = reformatter.reformat(frame, width, height, "bgr24", interpolation="POINT", threads=1)
    return out.to_ndarray()


def extract_frames(
    video: Path,
    out_dir: Path,
    *,
    sample_interval: float = 1.0,
    max_samples: int = 120,
    thumb_width: int = THUMB_WIDTH,
    progress: Callable[[float], None] | None = None,
) -> FrameSet:
    """Find shot cuts in ``video`` and write keyframe thumbnails into ``out_dir``.

    Raises ``NotAVideo`` for a file that is no video (a still image, no video stream, no frame).
    """
    from scenedetect import FrameTimecode
    from scenedetect.detectors import ContentDetector

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda fraction: None)

    info = probe(video)
    log = DecodeLog("video")
    with av.open(str(video)) as container:
        stream = video_stream(container)
        stream.thread_type = "AUTO"
        fps = info.fps if 0 < info.fps <= 240 else 30.0
        total_estimate = info.duration
        stretch = _pixel_stretch(info)
        soft_every = max(1, round(fps / SOFT_RATE))
        soft_rate = fps / soft_every
        # every frame may start a shot: the minimum shot length is applied in seconds when the
        # cuts are merged (a count of frames is no duration at a variable frame rate)
        hard = ContentDetector(threshold=HARD_THRESHOLD, min_scene_len=1)
        detect_reformatter = VideoReformatter()
        thumb_reformatter = VideoReformatter()

        times: list[float] = []
        luma_change: list[float] = []
        hard_frames: list[int] = []
        sample_frames: list[int] = []
        sample_scores: list[float] = []
        previous_sample: np.ndarray | None = None
        candidates: list[tuple[float, bytes]] = []
        next_candidate = 0.0
        previous_luma: np.ndarray | None = None
        rotation = 0
        width = height = 0
        small_size: tuple[int, int] | None = None
        index = -1

        for frame in decode_tolerantly(container, stream, log):
            index += 1
            if small_size is None:
                rotation = int(getattr(frame, "rotation", 0) or 0)
                width, height = frame.width, frame.height
                small_size = _small_size(width, height, DETECT_WIDTH)
            # the frame's own timestamp (variable frame rates), from the container's start
            raw_time = float(frame.time) if frame.time is not None else index / fps + info.start_s
            seconds = max(0.0, raw_time - info.start_s, times[-1] if times else 0.0)
            times.append(seconds)
            small = rotate_image(_to_small(detect_reformatter, frame, *small_size), rotation)
            luma = small[:, :, 1].astype(np.int16)
            luma_change.append(
                0.0 if previous_luma is None else float(np.abs(luma - previous_luma).mean())
            )
            previous_luma = luma

            hard_frames += [
                c.frame_num for c in hard.process_frame(FrameTimecode(index, fps), small)
            ]
            if index % soft_every == 0:
                sample_scores.append(
                    0.0 if previous_sample is None else content_score(previous_sample, small)
                )
                sample_frames.append(index)
                previous_sample = small
            if seconds >= next_candidate - 1e-6:
                candidates.append(
                    (
                        seconds,
                        _thumbnail(thumb_reformatter, frame, thumb_width, rotation, stretch),
                    )
                )
                next_candidate = (
                    math.floor(seconds * CANDIDATE_RATE + 1e-6) / CANDIDATE_RATE
                    + 1 / CANDIDATE_RATE
                )
            if total_estimate and index % 30 == 0:
                report(min(0.95, seconds / total_estimate))

        if index < 0:
            raise NotAVideo("no decodable video frame")
        last = FrameTimecode(index, fps)
        hard_frames += [c.frame_num for c in hard.post_process(last)]
        # the last frame is shown for one frame interval, or as long as another stream plays
        duration = max(times[-1] + 1.0 / fps, info.duration)
    decoded = time.perf_counter()

    soft_runs = _gradual_runs(sample_scores, sample_frames, soft_rate)
    transitions = _merge_cuts(times, luma_change, hard_frames, soft_runs, soft_every, duration)
    cuts = [t["time_s"] for t in transitions]
    bounds = [0.0, *cuts, duration]
    shots = [
        {"index": i, "start_s": round(bounds[i], 3), "end_s": round(bounds[i + 1], 3)}
        for i in range(len(bounds) - 1)
    ]

    interval = max(sample_interval, duration / max_samples) if max_samples > 0 else sample_interval
    candidate_times = np.array([c[0] for c in candidates])
    # Frames inside a dissolve show two shots blended (and unreadable text): never pick them.
    gradual = [t["time_s"] for t in transitions if t["kind"] == "gradual"]
    clear = np.array(
        [all(abs(t - c) >= TRANSITION_GUARD for c in gradual) for t in candidate_times], dtype=bool
    )
    chosen: dict[int, dict[str, Any]] = {}
    for shot in shots:
        middle = (shot["start_s"] + shot["end_s"]) / 2
        inside = (candidate_times >= shot["start_s"]) & (candidate_times < shot["end_s"])
        pool = np.nonzero(inside & clear)[0]
        if not len(pool):
            pool = np.nonzero(inside)[0] if inside.any() else np.arange(len(candidates))
        best = int(pool[np.argmin(np.abs(candidate_times[pool] - middle))])
        chosen[best] = {"kind": "shot", "shot": shot["index"]}
    if max_samples > 0:
        grid = 0.0
        while grid < duration - 1e-6:
            later = np.nonzero(
                (candidate_times >= grid - 1e-6)
                & (candidate_times < grid + interval - 1e-6)
                & clear
            )[0]
            if len(later):
                best = int(later[0])
                chosen.setdefault(
                    best, {"kind": "sample", "shot": _shot_index(shots, candidate_times[best])}
                )
            grid += interval

    frames = []
    for i in sorted(chosen):
        seconds, jpeg = candidates[i]
        path = out_dir / f"frame_{round(seconds * 1000):07d}ms.jpg"
        path.write_bytes(jpeg)
        frames.append({"time_s": round(seconds, 3), "path": str(path), **chosen[i]})
    report(1.0)
    display_w, display_h = display_size(width, height, stretch, rotation)
    return FrameSet(
        duration_s=round(duration, 3),
        fps=round(fps, 3),
        width=display_w,
        height=display_h,
        frame_count=index + 1,
        rotation=rotation,
        cuts=cuts,
        transitions=transitions,
        shots=shots,
        frames=frames,
        sample_interval_s=round(interval, 3),
        timings={
            "decode_detect_s": round(decoded - started, 3),
            "total_s": round(time.perf_counter() - started, 3),
        },
        warnings=media_warnings(info, log),
    )


def media_warnings(info: MediaInfo, *logs: DecodeLog) -> list[dict[str, Any]]:
    """What a player would hide but a partner should know: skipped damage, a file cut short."""
    warnings = [w for w in (log.warning() for log in logs) if w]
    if info.demux_errors and not any(log.read_failed for log in logs):
        warnings.append(
            {
                "code": "decode_errors",
                "stream": "container",
                "count": info.demux_errors,
                "message": "The file could not be read to its end.",
            }
        )
    if info.truncated and info.stated_duration is not None:
        warnings.append(
            {
                "code": "truncated",
                "stated_duration_s": round(info.stated_duration, 3),
                "playable_duration_s": round(info.duration, 3),
                "message": f"The file ends at {info.duration:.2f} s although it states"
                f" {info.stated_duration:.2f} s (a download cut short?).",
            }
        )
    return warnings


def _pixel_stretch(info: MediaInfo) -> Fraction | None:
    """The sample aspect ratio (width stretch) of non-square pixels, None for square ones."""
    if not info.sample_aspect_ratio:
        return None
    num, _, den = info.sample_aspect_ratio.partition(":")
    return Fraction(int(num), int(den))


def _thumbnail(
    reformatter: VideoReformatter,
    frame: av.VideoFrame,
    width: int,
    rotation: int,
    stretch: Fraction | None = None,
) -> bytes:
    src_w, src_h = display_size(frame.width, frame.height, stretch, rotation)
    thumb_w = min(width, src_w)
    thumb_h = max(2, round(src_h * thumb_w / src_w / 2) * 2)
    out_w, out_h = (thumb_h, thumb_w) if (rotation // 90) % 2 else (thumb_w, thumb_h)
    image = reformatter.reformat(
        frame, out_w, out_h, "bgr24", interpolation="AREA", threads=1
    ).to_ndarray()
    ok, data = cv2.imencode(
        ".jpg", rotate_image(image, rotation), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def _shot_index(shots: list[dict[str, Any]], seconds: float) -> int:
    for shot in shots:
        if shot["start_s"] <= seconds < shot["end_s"]:
            return int(shot["index"])
    return int(shots[-1]["index"])


def content_score(before: np.ndarray, after: np.ndarray) -> float:
    """PySceneDetect's ContentDetector score with its default weights: the mean absolute change
    of hue, saturation and value, averaged."""
    a = cv2.cvtColor(before, cv2.COLOR_BGR2HSV)
    b = cv2.cvtColor(after, cv2.COLOR_BGR2HSV)
    return float(cv2.absdiff(a, b).reshape(-1, 3).mean(axis=0).mean())


def _gradual_runs(scores: list[float], frames: list[int], rate: float) -> list[tuple[int, int]]:
    """Frame ranges ``(first changed frame, last frame)`` of gradual transitions
    (see module doc)."""
    values = np.asarray(scores, dtype=np.float64)
    context = max(2, round(GRADUAL_CONTEXT_S * rate))
    longest = max(1, round(GRADUAL_MAX_S * rate))
    active = np.zeros(len(values), dtype=bool)
    for j in range(1, len(values)):
        around = values[max(1, j - context) : j + context + 1]
        active[j] = values[j] >= max(GRADUAL_MIN_STEP, GRADUAL_RATIO * float(np.median(around)))
    runs = []
    j = 1
    while j < len(values):
        if not active[j]:
            j += 1
            continue
        end = j
        while end + 1 < len(values) and active[end + 1]:
            end += 1
        if end - j + 1 <= longest and values[j : end + 1].sum() >= HARD_THRESHOLD:
            runs.append((frames[j - 1] + 1, frames[end]))
        j = end + 1
    return runs


def _merge_cuts(
    times: list[float],
    luma_change: list[float],
    hard_frames: list[int],
    soft_runs: list[tuple[int, int]],
    soft_every: int,
    duration: float,
) -> list[dict[str, Any]]:
    """Hard cuts at their frame; gradual ones (not near a hard cut) at their transition's centre."""
    change = np.asarray(luma_change)
    found: list[tuple[float, str]] = []
    for i in sorted(set(hard_frames)):
        if not 0 < i < len(times):
            continue
        around = np.concatenate([change[max(1, i - 3) : i], change[i + 1 : i + 4]])
        if not len(around) or change[i] >= SPIKE_RATIO * float(around.max()):
            found.append((times[i], "hard"))
        else:  # the content detector fired inside a fast dissolve: time it as one
            found.append(
                (
                    _transition_centre(times, change, i - 2 * soft_every, i + 2 * soft_every),
                    "gradual",
                )
            )
    for first, last in soft_runs:
        seconds = _transition_centre(times, change, first, last)
        if all(abs(seconds - t) > MERGE_SECONDS for t, _ in found):
            found.append((seconds, "gradual"))
    found.sort()
    merged: list[dict[str, Any]] = []
    for seconds, kind in found:
        if seconds <= 0.05 or seconds >= duration - 0.05:
            continue
        if merged and seconds - merged[-1]["time_s"] < MIN_SHOT_SECONDS * 0.9:
            continue
        merged.append({"time_s": round(seconds, 3), "kind": kind})
    return merged


def _transition_centre(times: list[float], change: np.ndarray, first: int, last: int) -> float:
    """Centre of mass of the above-baseline per-frame luma change over frames ``first..last``."""
    lo, hi = max(1, first), min(len(change), last + 1)
    if hi <= lo:
        return times[min(max(first, 0), len(times) - 1)]
    span = hi - lo
    context = change[max(1, lo - 3 * span) : min(len(change), hi + 3 * span)]
    baseline = float(np.median(context)) if len(context) else 0.0
    excess = np.clip(change[lo:hi] - baseline, 0, None)
    if excess.sum() <= 0:
        return times[(lo + hi - 1) // 2]
    centre = float((np.arange(lo, hi) * excess).sum() / excess.sum())
    before = math.floor(centre)
    after = min(before + 1, len(times) - 1)
    return times[before] + (times[after] - times[before]) * (centre - before)
