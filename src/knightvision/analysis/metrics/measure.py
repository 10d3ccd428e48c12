"""``measure``: every D18 measured fact about an ad, one step after the other, timed."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

from knightvision.analysis.metrics.audio import audio_facts
from knightvision.analysis.metrics.cta import call_to_action
from knightvision.analysis.metrics.faces import face_intervals, has_face
from knightvision.analysis.metrics.frames import decode_at
from knightvision.analysis.metrics.language import language_facts
from knightvision.analysis.metrics.offer import offer_facts
from knightvision.analysis.metrics.speech import speech_facts
from knightvision.analysis.metrics.text import read_text, text_spans
from knightvision.media.frames import FrameSet
from knightvision.media.probe import MediaInfo, probe
from knightvision.providers.transcription.port import Transcript

#: Names the metrics code for the analysis stage cache: change it with any change to what
#: ``measure`` returns for the same media, frames and transcript (any module of this package).
METRICS_VERSION = "metrics-2"
ASPECT_RATIOS = {"9:16": 9 / 16, "16:9": 16 / 9, "1:1": 1.0, "4:5": 4 / 5}


def measure(
    video: Path, frames: FrameSet | dict[str, Any], transcript: Transcript | dict[str, Any]
) -> dict[str, Any]:
    """All D18 measured facts for ``video``; how each is measured is told in its step's module.

    ``timings`` reports the seconds spent per sub-step.
    """
    started = time.perf_counter()
    frames = frames if isinstance(frames, FrameSet) else FrameSet.from_dict(frames)
    transcript = (
        transcript if isinstance(transcript, Transcript) else Transcript.from_dict(transcript)
    )
    video = Path(video)
    timings: dict[str, float] = {}

    info = probe(video)
    duration = max(frames.duration_s, info.duration)  # the longest stream, as players show it
    width, height = (frames.width, frames.height) if frames.width else (info.width, info.height)
    timings["probe_s"] = time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-audio") as pool:
        audio_future = pool.submit(audio_facts, video) if info.has_audio else None
        step = time.perf_counter()
        times = sorted({f["time_s"] for f in frames.frames})
        images = decode_at(video, times, frames.rotation)
        timings["decode_frames_s"] = time.perf_counter() - step

        step = time.perf_counter()
        readings = read_text(images)
        on_screen_text = text_spans(times, readings, frames.cuts, duration)
        timings["ocr_s"] = time.perf_counter() - step

        step = time.perf_counter()
        seen = [
            (t, has_face(image))
            for t, image in zip(times, images, strict=True)
            if image is not None
        ]
        face_times = [t for t, flag in seen if flag]
        faces = face_intervals(
            video, [t for t, _ in seen], [flag for _, flag in seen], duration, frames.rotation
        )
        timings["faces_s"] = time.perf_counter() - step

        step = time.perf_counter()
        audio: dict[str, Any] = (
            audio_future.result()
            if audio_future
            else {
                "loudness_lufs": None,
                "silence_ratio": None,
                "audio_peak_dbfs": None,
                "clipping_ratio": None,
                "warning": None,
                "seconds": 0.0,
            }
        )
        timings["audio_wait_s"] = time.perf_counter() - step
    timings["audio_s"] = audio.pop("seconds")

    step = time.perf_counter()
    cuts = [round(c, 3) for c in frames.cuts]
    shot_count = len(cuts) + 1
    speech = speech_facts(transcript)
    cta = call_to_action(transcript, on_screen_text, duration)
    timings["speech_cta_s"] = time.perf_counter() - step
    step = time.perf_counter()
    offer = offer_facts(transcript, on_screen_text)
    timings["offer_s"] = time.perf_counter() - step
    step = time.perf_counter()
    languages = language_facts(transcript, on_screen_text)
    timings["language_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started

    sampled = [t for t, image in zip(times, images, strict=True) if image is not None]
    return {
        "duration_s": round(duration, 3),
        "size_bytes": info.size_bytes,
        "width": width,
        "height": height,
        **aspect_facts(width, height),
        "fps": round(frames.fps or info.fps, 3),
        "has_audio": info.has_audio,
        "scene_cuts": cuts,
        "shot_count": shot_count,
        "average_shot_length_s": round(duration / shot_count, 3) if duration else None,
        "cuts_per_10s": round(len(cuts) / duration * 10, 3) if duration else None,
        "first_cut_s": cuts[0] if cuts else None,
        **speech,
        "on_screen_text": on_screen_text,
        "face_frame_share": round(len(face_times) / len(sampled), 3) if sampled else None,
        "first_face_s": faces[0]["start_s"] if faces else None,
        "face_times_s": face_times,
        "face_intervals": faces,
        "loudness_lufs": audio["loudness_lufs"],
        "silence_ratio": audio["silence_ratio"],
        "audio_peak_dbfs": audio["audio_peak_dbfs"],
        "clipping_ratio": audio["clipping_ratio"],
        "media": media_facts(info),
        "warnings": [*frames.warnings, *([audio["warning"]] if audio["warning"] else [])],
        "call_to_action": cta,
        "offer": offer,
        # beside the speech facts' ``language`` (the transcript's, a string kept as it was)
        "languages": languages,
        "sampled_frame_times_s": sampled,
        "engines": {
            "cuts": "PySceneDetect ContentDetector + AdaptiveDetector",
            "on_screen_text": "RapidOCR PP-OCRv6",
            "faces": "OpenCV Haar frontalface_default",
            "loudness": "pyloudnorm ITU-R BS.1770",
            "on_screen_language": "py3langid",
            "transcript": transcript.engine,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def media_facts(info: MediaInfo) -> dict[str, Any]:
    """The file as a player reads it: codecs, stream start offsets, pixel shape, rotation."""
    return {
        "container": info.container_format,
        "video_codec": info.video_codec,
        "audio_codec": info.audio_codec,
        "coded_width": info.coded_width,
        "coded_height": info.coded_height,
        "sample_aspect_ratio": info.sample_aspect_ratio,
        "rotation": info.rotation,
        "stated_duration_s": None
        if info.stated_duration is None
        else round(info.stated_duration, 3),
        "video_start_s": round(info.video_start_s, 3),
        "audio_start_s": None if info.audio_start_s is None else round(info.audio_start_s, 3),
        "audio_channels": info.audio_channels,
    }


def aspect_facts(width: int, height: int) -> dict[str, Any]:
    if not width or not height:
        return {"aspect_ratio": None, "aspect_ratio_exact": None, "aspect_ratio_value": None}
    value = width / height
    nearest = min(ASPECT_RATIOS, key=lambda name: abs(math.log(value / ASPECT_RATIOS[name])))
    exact = Fraction(width, height)
    return {
        "aspect_ratio": nearest,
        "aspect_ratio_exact": f"{exact.numerator}:{exact.denominator}",
        "aspect_ratio_value": round(value, 4),
    }
