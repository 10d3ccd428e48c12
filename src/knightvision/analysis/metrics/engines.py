"""The OCR, face and language engines: loaded once per process (module-level caches, guarded by
a lock) and shared by every analysis.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

OCR_DET_LIMIT = 480  # detector input, long side: text under ~2% of the frame height may be missed
OCR_WORKERS = max(1, min(2, os.cpu_count() or 1))

_LOCK = threading.Lock()
_OCR: dict[int, list[LockedOCR]] = {}
_CASCADES: dict[str, Any] = {}
_LANGUAGE: list[Any] = []

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def ocr_engines(count: int | None = None, det_limit: int = OCR_DET_LIMIT) -> list[LockedOCR]:
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
            engines.append(LockedOCR(RapidOCR(params=params)))
        return engines[:count]


def ocr_engine() -> LockedOCR:
    return ocr_engines(1)[0]


class LockedOCR:
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
        if boxes is None or texts is None or scores is None:
            return []
        return [
            (np.asarray(b, np.float32), str(t), float(s))
            for b, t, s in zip(boxes, texts, scores, strict=False)
        ]

    def warm_up(self) -> None:
        blank = np.full((64, 256, 3), 255, np.uint8)
        cv2.putText(blank, "warm up", (8, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
        self.read(blank)


def run_parallel(
    engines: list[LockedOCR],
    work: Callable[[LockedOCR, _Item], _Result],
    items: list[_Item],
) -> list[_Result]:
    """``work(engine, item)`` for every item, one worker per engine, results in order."""
    if len(engines) == 1 or len(items) < 2:
        return [work(engines[0], item) for item in items]
    local = threading.local()
    free = list(engines)
    free_lock = threading.Lock()

    def run(item: _Item) -> _Result:
        if not hasattr(local, "engine"):
            with free_lock:
                local.engine = free.pop()
        return work(local.engine, item)

    with ThreadPoolExecutor(max_workers=len(engines), thread_name_prefix="kv-ocr") as pool:
        return list(pool.map(run, items))


def face_cascade(path: str | None = None) -> Any:
    # cv2.data exists at run time; the OpenCV stubs leave it out
    folder = cv2.data.haarcascades  # type: ignore[attr-defined]
    path = path or str(Path(folder) / "haarcascade_frontalface_default.xml")
    with _LOCK:
        cascade = _CASCADES.get(path)
        if cascade is None:
            cascade = cv2.CascadeClassifier(path)
            if cascade.empty():
                raise RuntimeError(f"cannot load face cascade {path}")
            _CASCADES[path] = cascade
        return cascade


def language_identifier() -> Any:
    """py3langid's identifier over all its languages (the model ships in its wheel; about 100 MB
    resident, 0.5 to 2 s to load). Its calls keep no state, so threads share it."""
    with _LOCK:
        if not _LANGUAGE:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _LANGUAGE.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _LANGUAGE[0]


def warm_up() -> None:
    """Load the OCR, face and language engines now (they otherwise load on first use)."""
    for engine in ocr_engines():
        engine.warm_up()
    face_cascade()
    language_identifier()
