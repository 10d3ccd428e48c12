"""Measured facts about an ad (D18 ``metrics``): what the media is, not what a model thinks of it.

``measure(video, frames, transcript)`` combines the frames stage (cuts, sampled frame times), the
transcript, and its own passes over the file:

* **Sampling.** On-screen text and faces are measured on the frames the frames stage chose: one
  keyframe per shot (mid-shot) plus one every ``frames.sample_interval_s`` (1 s; longer videos
  get at most 120 samples). They are decoded again here, once, sequentially, and scaled to at most
  960 px on the long side for OCR; face detection sees them at 270 px on the short side.
  Text or faces that appear only between two samples can be missed; a span's edges are known to
  within half the sampling interval (snapped to a shot cut when one lies in between).
* **On-screen text** (RapidOCR, PP-OCRv6 det+rec, upright text, no angle classifier). The
  detector runs on every sample (input scaled to 480 px on the long side, so text smaller than
  about 2% of the frame height can be missed); recognition runs on its boxes only when the text
  areas or their pixels changed since the previous sample, otherwise the previous reading is
  reused (captions usually hold for seconds). Two single-threaded engines work on two frames at
  once. Lines are grouped into blocks (a caption, a URL in a corner) and a block's
  text is followed across samples: near-identical readings (>= 85% similar) are one span.
* **Faces** (OpenCV Haar frontal-face cascade, min size 10% of the short side):
  ``face_frame_share`` is the share of sampled frames with at least one face.
* **Audio**: integrated loudness (ITU-R BS.1770 via pyloudnorm, source channels up to stereo)
  and ``silence_ratio``, the share of 100 ms windows whose RMS is below -45 dBFS (mono mix).
* **Call to action**: phrases matched in the confident transcript (timed by its words) and in the
  on-screen text spans (timed by the span start). Strong phrases ("shop now", "sign up", "use code
  X", …) win over weak single words ("order", "download", …); within a class the earliest match in
  the last third of the video is chosen (that is where ads put their ask), else the earliest.

Engines load once per process (module-level caches, guarded by locks) and are reused.
``timings`` reports the seconds spent per sub-step.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from knightvision.media.frames import FrameSet, rotate_image
from knightvision.media.probe import probe
from knightvision.providers.transcription.port import Transcript

__all__ = [
    "ASPECT_RATIOS",
    "CTA_STRONG",
    "CTA_WEAK",
    "find_call_to_action",
    "measure",
    "ocr_engine",
]

ASPECT_RATIOS = {"9:16": 9 / 16, "16:9": 16 / 9, "1:1": 1.0, "4:5": 4 / 5}
OCR_MAX_SIDE = 960
OCR_DET_LIMIT = 480  # detector input, long side: text under ~2% of the frame height may be missed
OCR_MIN_SCORE = 0.6
OCR_WORKERS = max(1, min(2, os.cpu_count() or 1))
TEXT_SAME_RATIO = 0.85
TEXT_PIXEL_CHANGE = 12.0  # mean grey-level change in text areas below which a reading is reused
FACE_SHORT_SIDE = 270
FACE_MIN_FRACTION = 0.10
SILENCE_DBFS = -45.0
SILENCE_WINDOW_S = 0.1

CTA_STRONG = (
    "shop now", "buy now", "order now", "order today", "order yours", "get yours", "grab yours", "get it now",
    "get it today", "try it free", "try it for free", "try for free", "try it now", "start your free trial",
    "free trial", "sign up", "signup", "join now", "join today", "subscribe", "download now", "download the app",
    "download today", "get the app", "install now", "install the app", "link in bio", "link in my bio",
    "click the link", "tap the link", "swipe up", "learn more", "book now", "book today", "apply now",
    "claim your", "shop the", "visit our website", "use code", "use my code", "use promo code", "promo code",
)  # fmt: skip
CTA_WEAK = ("order", "download", "install", "buy", "shop", "visit", "subscribe", "join")
_CODE = re.compile(
    r"\b(?:use|with|enter)\s+(?:the\s+|my\s+|promo\s+|discount\s+)?code[\s:]+([A-Za-z0-9]{3,20})\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]+")

_LOCK = threading.Lock()
_OCR: dict[int, list[Any]] = {}
_CASCADES: dict[str, Any] = {}
_FACE_LOCK = threading.Lock()  # a cascade is not documented as thread-safe


# ----------------------------------------------------------------------------- engines


def ocr_engines(count: int | None = None, det_limit: int = OCR_DET_LIMIT) -> list[_LockedOCR]:
    """Shared single-threaded RapidOCR engines (bundled PP-OCRv6 models; nothing is downloaded).

    One ONNX thread per engine, one engine per worker: small models on a few frames parallelise
    better across frames than inside one inference, and onnxruntime's default spinning thread
    pool measured 2-4x slower whenever anything else wants the CPU (a decode, another job).
    """
    count = count or OCR_WORKERS
    with _LOCK:
        engines = _OCR.setdefault(det_limit, [])
        while len(engines) < count:
            from rapidocr import RapidOCR

            params: dict[str, Any] = {
                "Global.log_level": "error",  # "no text found" is a warning per empty frame
                "Global.use_cls": False,
                "Det.limit_side_len": det_limit,
                "Det.limit_type": "max",
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            engines.append(_LockedOCR(RapidOCR(params=params)))
        return engines[:count]


def ocr_engine() -> _LockedOCR:
    return ocr_engines(1)[0]


class _LockedOCR:
    """RapidOCR keeps per-call flags on the instance: one call at a time, flags always explicit."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.lock = threading.Lock()

    def detect(self, image: np.ndarray) -> np.ndarray:
        with self.lock:
            result = self.engine(image, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(result, "boxes", None)
        return np.zeros((0, 4, 2), np.float32) if boxes is None else np.asarray(boxes, np.float32)

    def read(
        self, image: np.ndarray, boxes: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, str, float]]:
        """Recognised lines ``(box, text, score)``; with ``boxes`` (from :meth:`detect` on this
        image) only recognition runs."""
        with self.lock:
            if boxes is None:
                result = self.engine(image, use_det=True, use_cls=False, use_rec=True)
                boxes, texts, scores = (
                    getattr(result, name, None) for name in ("boxes", "txts", "scores")
                )
            elif len(boxes):
                recognised = self.engine.recognize_txt(self.engine.crop_text_regions(image, boxes))
                texts, scores = recognised.txts, recognised.scores
            else:
                return []
        if boxes is None or texts is None:
            return []
        return [
            (np.asarray(b, np.float32), str(t), float(s))
            for b, t, s in zip(boxes, texts, scores, strict=False)
        ]

    def warm_up(self) -> None:
        blank = np.full((64, 256, 3), 255, np.uint8)
        cv2.putText(blank, "warm up", (8, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
        self.read(blank)


def _parallel(engines: list[_LockedOCR], work: Any, items: list[Any]) -> list[Any]:
    """``work(engine, item)`` for every item, one worker per engine, results in order."""
    if len(engines) == 1 or len(items) < 2:
        return [work(engines[0], item) for item in items]
    local = threading.local()
    free = list(engines)
    free_lock = threading.Lock()

    def run(item: Any) -> Any:
        if not hasattr(local, "engine"):
            with free_lock:
                local.engine = free.pop()
        return work(local.engine, item)

    with ThreadPoolExecutor(max_workers=len(engines), thread_name_prefix="kv-ocr") as pool:
        return list(pool.map(run, items))


def face_cascade(path: str | None = None) -> Any:
    path = path or str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")
    with _LOCK:
        cascade = _CASCADES.get(path)
        if cascade is None:
            cascade = cv2.CascadeClassifier(path)
            if cascade.empty():
                raise RuntimeError(f"cannot load face cascade {path}")
            _CASCADES[path] = cascade
        return cascade


def warm_up() -> None:
    """Load the OCR and face engines now (they otherwise load on first use)."""
    for engine in ocr_engines():
        engine.warm_up()
    face_cascade()


# ----------------------------------------------------------------------------- measure


def measure(
    video: Path, frames: FrameSet | dict[str, Any], transcript: Transcript | dict[str, Any]
) -> dict[str, Any]:
    """All D18 measured facts for ``video`` (see the module docstring for how each is measured)."""
    started = time.perf_counter()
    frames = frames if isinstance(frames, FrameSet) else FrameSet.from_dict(frames)
    transcript = (
        transcript if isinstance(transcript, Transcript) else Transcript.from_dict(transcript)
    )
    video = Path(video)
    timings: dict[str, float] = {}

    info = probe(video)
    duration = frames.duration_s or info.duration
    width, height = (frames.width, frames.height) if frames.width else (info.width, info.height)
    timings["probe_s"] = time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-audio") as pool:
        audio_future = pool.submit(_audio_facts, video) if info.has_audio else None
        step = time.perf_counter()
        times = sorted({f["time_s"] for f in frames.frames})
        images = _decode_at(video, times, frames.rotation)
        timings["decode_frames_s"] = time.perf_counter() - step

        step = time.perf_counter()
        readings = _read_text(images)
        on_screen_text = _text_spans(times, readings, frames.cuts, duration)
        timings["ocr_s"] = time.perf_counter() - step

        step = time.perf_counter()
        face_times = [
            t
            for t, image in zip(times, images, strict=True)
            if image is not None and _has_face(image)
        ]
        timings["faces_s"] = time.perf_counter() - step

        step = time.perf_counter()
        audio = (
            audio_future.result()
            if audio_future
            else {"loudness_lufs": None, "silence_ratio": None, "seconds": 0.0}
        )
        timings["audio_wait_s"] = time.perf_counter() - step
    timings["audio_s"] = audio.pop("seconds")

    step = time.perf_counter()
    cuts = [round(c, 3) for c in frames.cuts]
    shot_count = len(cuts) + 1
    speech = _speech_facts(transcript)
    cta = find_call_to_action(transcript, on_screen_text, duration)
    timings["speech_cta_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started

    sampled = [t for t, image in zip(times, images, strict=True) if image is not None]
    return {
        "duration_s": round(duration, 3),
        "size_bytes": info.size_bytes,
        "width": width,
        "height": height,
        **_aspect(width, height),
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
        "first_face_s": face_times[0] if face_times else None,
        "face_times_s": face_times,
        "loudness_lufs": audio["loudness_lufs"],
        "silence_ratio": audio["silence_ratio"],
        "call_to_action": cta,
        "sampled_frame_times_s": sampled,
        "engines": {
            "cuts": "PySceneDetect ContentDetector + AdaptiveDetector",
            "on_screen_text": "RapidOCR PP-OCRv6",
            "faces": "OpenCV Haar frontalface_default",
            "loudness": "pyloudnorm ITU-R BS.1770",
            "transcript": transcript.engine,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def _aspect(width: int, height: int) -> dict[str, Any]:
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


# ----------------------------------------------------------------------------- frames


def _decode_at(video: Path, times: list[float], rotation: int) -> list[np.ndarray | None]:
    """BGR images (long side <= OCR_MAX_SIDE) of the frames at ``times`` (frame times from the
    frames stage, measured from the first frame), in one sequential decode."""
    images: list[np.ndarray | None] = [None] * len(times)
    if not times:
        return images
    reformatter = VideoReformatter()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        tolerance = 0.5 / fps
        wanted = 0
        first: float | None = None
        index = -1
        for frame in container.decode(stream):
            index += 1
            raw = float(frame.time) if frame.time is not None else index / fps
            if first is None:
                first = raw
            seconds = max(0.0, raw - first)  # as in the frames stage
            image = None
            while wanted < len(times) and seconds >= times[wanted] - tolerance:
                # the frame at that time (the frames stage picked it from the same decode), or the
                # next one should timestamps disagree
                image = (
                    image
                    if image is not None
                    else rotate_image(_scaled(reformatter, frame), rotation)
                )
                images[wanted] = image
                wanted += 1
            if wanted >= len(times):
                break
    return images


def _scaled(reformatter: VideoReformatter, frame: av.VideoFrame) -> np.ndarray:
    scale = min(1.0, OCR_MAX_SIDE / max(frame.width, frame.height))
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    image = reformatter.reformat(
        frame, width, height, "bgr24", interpolation="AREA", threads=1
    ).to_ndarray()
    # PyAV returns a strided view of the padded frame buffer; OCR on such views was measured to
    # grow memory by ~5 MB a frame (copies inside), so hand it one compact array instead.
    return np.ascontiguousarray(image)


# ----------------------------------------------------------------------------- on-screen text


def _read_text(images: list[np.ndarray | None]) -> list[list[str]]:
    """Text blocks per sampled frame. The detector runs on every frame; recognition only on
    frames whose text regions differ from the previous sample's (others reuse its reading)."""
    engines = ocr_engines()
    present = [i for i, image in enumerate(images) if image is not None]
    boxes: list[np.ndarray | None] = [None] * len(images)
    for i, found in zip(
        present, _parallel(engines, lambda e, i: e.detect(images[i]), present), strict=True
    ):
        boxes[i] = found
    source = list(range(len(images)))  # which frame's reading each frame uses
    to_read = []
    for i in present:
        if not len(boxes[i]):
            continue
        j = i - 1
        previous = images[j] if j >= 0 else None
        if (
            previous is not None
            and boxes[j] is not None
            and len(boxes[j])
            and _same_text_regions(previous, boxes[j], images[i], boxes[i])
        ):
            source[i] = source[j]
            continue
        to_read.append(i)
    read = dict(
        zip(
            to_read,
            _parallel(engines, lambda e, i: _blocks(e.read(images[i], boxes[i])), to_read),
            strict=True,
        )
    )
    return [
        read.get(source[i], [])
        if images[i] is not None and boxes[i] is not None and len(boxes[i])
        else []
        for i in range(len(images))
    ]


def _same_text_regions(
    image_a: np.ndarray, boxes_a: np.ndarray, image_b: np.ndarray, boxes_b: np.ndarray
) -> bool:
    """Whether two frames show the same text: their text areas mostly coincide (IoU >= 0.6, so a
    line the detector splits differently does not count as a change) and the pixels there match."""
    if image_a.shape != image_b.shape:
        return False
    scale = 4  # compare at a quarter of the OCR resolution
    height, width = image_a.shape[0] // scale, image_a.shape[1] // scale
    mask_a = np.zeros((height, width), np.uint8)
    mask_b = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask_a, [np.round(b / scale).astype(np.int32) for b in boxes_a], 1)
    cv2.fillPoly(mask_b, [np.round(b / scale).astype(np.int32) for b in boxes_b], 1)
    union = (mask_a | mask_b).astype(bool)
    if not union.any():
        return True
    if (mask_a & mask_b).sum() / union.sum() < 0.6:
        return False
    small_a = cv2.resize(
        cv2.cvtColor(image_a, cv2.COLOR_BGR2GRAY), (width, height), interpolation=cv2.INTER_AREA
    )
    small_b = cv2.resize(
        cv2.cvtColor(image_b, cv2.COLOR_BGR2GRAY), (width, height), interpolation=cv2.INTER_AREA
    )
    difference = np.abs(small_a.astype(np.int16) - small_b.astype(np.int16))[union]
    return float(difference.mean()) <= TEXT_PIXEL_CHANGE


def _rect(box: np.ndarray) -> tuple[float, float, float, float]:
    xs, ys = box[:, 0], box[:, 1]
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _blocks(lines: list[tuple[np.ndarray, str, float]]) -> list[str]:
    """Group recognised lines into text blocks (lines stacked closely), in reading order."""
    kept = []
    for box, text, score in lines:
        text = " ".join(text.split())
        if score < OCR_MIN_SCORE or sum(ch.isalnum() for ch in text) < 2:
            continue
        kept.append((_rect(box), text))
    kept.sort(key=lambda item: (item[0][1], item[0][0]))
    blocks: list[dict[str, Any]] = []
    for rect, text in kept:
        x0, y0, x1, y1 = rect
        height = y1 - y0
        for block in blocks:
            bx0, by0, bx1, by1 = block["rect"]
            overlaps = min(x1, bx1) - max(x0, bx0) > 0
            if overlaps and -0.5 * height <= y0 - by1 <= 0.9 * height:
                block["lines"].append((rect, text))
                block["rect"] = (min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1))
                break
        else:
            blocks.append({"rect": rect, "lines": [(rect, text)]})
    out = []
    for block in sorted(blocks, key=lambda b: (b["rect"][1], b["rect"][0])):
        lines = block["lines"]
        rows: list[list[tuple[tuple[float, float, float, float], str]]] = []
        for rect, text in sorted(lines, key=lambda item: (item[0][1] + item[0][3]) / 2):
            centre = (rect[1] + rect[3]) / 2
            if rows and abs(centre - (rows[-1][0][0][1] + rows[-1][0][0][3]) / 2) < 0.5 * (
                rect[3] - rect[1]
            ):
                rows[-1].append((rect, text))
            else:
                rows.append([(rect, text)])
        out.append(
            " ".join(text for row in rows for _, text in sorted(row, key=lambda item: item[0][0]))
        )
    return out


def _normal(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def _similar(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= TEXT_SAME_RATIO


def _text_spans(
    times: list[float], readings: list[list[str]], cuts: list[float], duration: float
) -> list[dict[str, Any]]:
    """Follow each text block across samples; near-identical consecutive readings form one span."""
    open_spans: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for index, blocks in enumerate(readings):
        still_open = []
        matched: set[int] = set()
        for block in blocks:
            key = _normal(block)
            if not key:
                continue
            for n, span in enumerate(open_spans):
                if n not in matched and _similar(span["key"], key):
                    matched.add(n)
                    span["last"] = index
                    span["variants"][block] += 1
                    break
            else:
                open_spans.append(
                    {"key": key, "first": index, "last": index, "variants": Counter({block: 1})}
                )
                matched.add(len(open_spans) - 1)
        for n, span in enumerate(open_spans):
            (still_open if n in matched else closed).append(span)
        open_spans = still_open
    closed += open_spans

    def boundary(before: int, after: int) -> float:
        if before < 0:
            return 0.0
        if after >= len(times):
            return duration
        lo, hi = times[before], times[after]
        inside = [c for c in cuts if lo < c <= hi]
        if inside:
            middle = (lo + hi) / 2
            return min(inside, key=lambda c: abs(c - middle))
        return (lo + hi) / 2

    spans = []
    for span in closed:
        text = span["variants"].most_common(1)[0][0]
        spans.append(
            {
                "start_s": round(boundary(span["first"] - 1, span["first"]), 3),
                "end_s": round(boundary(span["last"], span["last"] + 1), 3),
                "text": text,
            }
        )
    spans.sort(key=lambda s: (s["start_s"], s["end_s"]))
    return spans


# ----------------------------------------------------------------------------- faces


def _has_face(image: np.ndarray) -> bool:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    short = min(gray.shape[:2])
    if short > FACE_SHORT_SIDE:
        scale = FACE_SHORT_SIDE / short
        gray = cv2.resize(
            gray,
            (round(gray.shape[1] * scale), round(gray.shape[0] * scale)),
            interpolation=cv2.INTER_AREA,
        )
        short = FACE_SHORT_SIDE
    gray = cv2.equalizeHist(gray)
    size = max(20, round(FACE_MIN_FRACTION * short))
    cascade = face_cascade()
    with _FACE_LOCK:
        faces = cascade.detectMultiScale(
            gray, scaleFactor=1.15, minNeighbors=5, minSize=(size, size)
        )
    return len(faces) > 0


# ----------------------------------------------------------------------------- audio


def _audio_facts(video: Path) -> dict[str, Any]:
    started = time.perf_counter()
    samples, rate = decode_audio(video)
    return {**audio_levels(samples, rate), "seconds": time.perf_counter() - started}


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    """First audio track as float32 ``(samples, channels)`` (mono or stereo) and its sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        channels = 2 if (stream.codec_context.channels or 1) >= 2 else 1
        rate = stream.codec_context.sample_rate or 48000
        if not 8000 <= rate <= 48000:
            rate = 48000
        resampler = av.AudioResampler(
            format="fltp", layout="stereo" if channels == 2 else "mono", rate=rate
        )
        chunks = []
        for frame in container.decode(stream):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    if not chunks:
        return np.zeros((0, channels), np.float32), rate
    return np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False), rate


def audio_levels(samples: np.ndarray, rate: int) -> dict[str, float | None]:
    """Integrated loudness (LUFS) and the share of 100 ms windows below -45 dBFS RMS."""
    import pyloudnorm

    if samples.ndim == 1:
        samples = samples[:, None]
    loudness: float | None = None
    if len(samples) >= int(0.4 * rate):  # BS.1770 gating blocks are 400 ms
        value = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
        loudness = round(value, 2) if math.isfinite(value) else None
    mono = samples.mean(axis=1)
    window = max(1, round(SILENCE_WINDOW_S * rate))
    count = len(mono) // window
    if len(mono) - count * window >= window // 2:
        mono = np.concatenate([mono, np.zeros(window - (len(mono) - count * window), mono.dtype)])
        count += 1
    if count == 0:
        return {"loudness_lufs": loudness, "silence_ratio": None}
    blocks = mono[: count * window].reshape(count, window).astype(np.float64)
    rms = np.sqrt((blocks**2).mean(axis=1))
    dbfs = 20 * np.log10(np.maximum(rms, 1e-10))
    return {
        "loudness_lufs": loudness,
        "silence_ratio": round(float((dbfs < SILENCE_DBFS).mean()), 3),
    }


# ----------------------------------------------------------------------------- speech and CTA


def _speech_facts(transcript: Transcript) -> dict[str, Any]:
    words = transcript.words if transcript.transcribable else []
    if words:
        count = len(words)
        spoken = max(0.0, float(words[-1]["end"]) - float(words[0]["start"]))
    else:
        count = len(transcript.text.split()) if transcript.transcribable else 0
        spoken = sum(max(0.0, s["end"] - s["start"]) for s in transcript.speech_spans)
    return {
        "speech_start_s": None
        if transcript.speech_start is None
        else round(transcript.speech_start, 3),
        "word_count": count,
        "words_per_minute": round(count / spoken * 60, 1) if count and spoken > 0 else None,
        "transcribable": transcript.transcribable,
        "language": transcript.language,
    }


_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
CTA_WORDS_BEFORE = 3
CTA_WORDS_AFTER = 10


def _find_in_stream(words: list[str], phrases: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """``(first word, last word, phrase)`` for each phrase found in a stream of raw words."""
    tokens: list[tuple[str, int]] = [
        (token, i) for i, word in enumerate(words) for token in _TOKEN.findall(word.lower())
    ]
    plain = [t for t, _ in tokens]
    found = []
    for phrase in phrases:
        target = _TOKEN.findall(phrase)
        for i in range(len(plain) - len(target) + 1):
            if plain[i : i + len(target)] == target:
                found.append((tokens[i][1], tokens[i + len(target) - 1][1], phrase))
    return found


def _window(words: list[str], first: int, last: int) -> str:
    """The words around a match: back to the sentence start (at most 3 words), on to its end
    (at most 10 words after the match starts)."""
    lo = first
    while lo > 0 and first - lo < CTA_WORDS_BEFORE and not _SENTENCE_END.search(words[lo - 1]):
        lo -= 1
    hi = last
    while (
        hi + 1 < len(words) and hi - first < CTA_WORDS_AFTER and not _SENTENCE_END.search(words[hi])
    ):
        hi += 1
    return " ".join(words[lo : hi + 1])


def find_call_to_action(
    transcript: Transcript, on_screen_text: list[dict[str, Any]], duration: float
) -> dict[str, Any] | None:
    """The ad's call to action ``{text, phrase, time_s, source, sources, strength}`` or None.

    Searched in the confident transcript (timed by its words; low-confidence segments and
    untranscribable speech are ignored) and in the on-screen text spans (timed by their start).
    """
    streams: list[tuple[str, list[str], list[float | None]]] = []  # (source, words, times)
    if transcript.transcribable:
        doubtful = [s for s in transcript.segments if s.get("low_confidence")]
        if transcript.words:
            kept = [
                w
                for w in transcript.words
                if not any(
                    s["start"] - 0.05 <= float(w["start"]) <= s["end"] + 0.05 for s in doubtful
                )
            ]
            streams.append(
                ("speech", [str(w["word"]) for w in kept], [float(w["start"]) for w in kept])
            )
        elif transcript.segments:
            for segment in transcript.segments:
                if not segment.get("low_confidence"):
                    words = str(segment["text"]).split()
                    streams.append(("speech", words, [float(segment["start"])] * len(words)))
        elif transcript.text:  # engines without timestamps
            words = transcript.text.split()
            streams.append(("speech", words, [None] * len(words)))
    for span in on_screen_text:
        words = str(span["text"]).split()
        streams.append(("overlay", words, [float(span["start_s"])] * len(words)))

    candidates: list[dict[str, Any]] = []
    for source, words, times in streams:
        for strength, phrases in ((0, CTA_STRONG), (1, CTA_WEAK)):
            for first, last, phrase in _find_in_stream(words, phrases):
                text = _window(words, first, last)
                code = _CODE.search(text)
                if phrase in ("use code", "use my code", "use promo code", "promo code") and code:
                    phrase = f"use code {code.group(1)}"
                candidates.append(
                    {
                        "strength": strength,
                        "time_s": times[first],
                        "source": source,
                        "phrase": phrase,
                        "text": text,
                    }
                )
    if not candidates:
        return None
    best_strength = min(c["strength"] for c in candidates)
    pool = [c for c in candidates if c["strength"] == best_strength]
    late = [c for c in pool if c["time_s"] is not None and c["time_s"] >= duration * 2 / 3]
    timed = [c for c in pool if c["time_s"] is not None]
    choice = (
        min(late or timed, key=lambda c: (c["time_s"], c["source"] != "speech"))
        if (late or timed)
        else pool[0]
    )
    return {
        "text": choice["text"][:200],
        "phrase": choice["phrase"],
        "time_s": None if choice["time_s"] is None else round(choice["time_s"], 3),
        "source": choice["source"],
        # every source with a call to action of the same strength (said and/or shown)
        "sources": sorted({c["source"] for c in pool}, key=["speech", "overlay"].index),
        "strength": "strong" if choice["strength"] == 0 else "weak",
    }
