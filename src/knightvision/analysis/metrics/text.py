"""On-screen text (RapidOCR, PP-OCRv6 det+rec, upright text, no angle classifier).

The detector runs on every sample (input scaled to 480 px on the long side, so text smaller than
about 2% of the frame height can be missed); recognition runs on its boxes only when the text
areas or their pixels changed since the previous sample, otherwise the previous reading is reused
(captions usually hold for seconds). Two single-threaded engines work on two frames at once. Lines
are grouped into blocks (a caption, a URL in a corner) and a block's text is followed across
samples: near-identical readings (>= 85% similar) are one span, whose edges are known to within
half the sampling interval (snapped to a shot cut when one lies in between).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

import cv2
import numpy as np

from knightvision.analysis.metrics.engines import ocr_engines, run_parallel

OCR_MIN_SCORE = 0.6
TEXT_SAME_RATIO = 0.85
TEXT_PIXEL_CHANGE = 12.0  # mean grey-level change in text areas below which a reading is reused
TOKEN = re.compile(r"[a-z0-9]+")  # a word as compared: lower-case letters and digits


def read_text(images: list[np.ndarray | None]) -> list[list[str]]:
    """Text blocks per sampled frame. The detector runs on every frame; recognition only on
    frames whose text regions differ from the previous sample's (others reuse its reading)."""
    engines = ocr_engines()
    present = [(i, image) for i, image in enumerate(images) if image is not None]
    boxes: list[np.ndarray | None] = [None] * len(images)
    detected = run_parallel(engines, lambda engine, item: engine.detect(item[1]), present)
    for (i, _), detected_boxes in zip(present, detected, strict=True):
        boxes[i] = detected_boxes
    source = list(range(len(images)))  # which frame's reading each frame uses
    to_read: list[tuple[int, np.ndarray, np.ndarray]] = []
    for i, image in present:
        found = boxes[i]
        if found is None or not len(found):
            continue
        j = i - 1
        previous, previous_boxes = (images[j], boxes[j]) if j >= 0 else (None, None)
        if (
            previous is not None
            and previous_boxes is not None
            and len(previous_boxes)
            and _same_text_regions(previous, previous_boxes, image, found)
        ):
            source[i] = source[j]
            continue
        to_read.append((i, image, found))
    readings = run_parallel(
        engines, lambda engine, item: _blocks(engine.read(item[1], item[2])), to_read
    )
    read = dict(zip((i for i, _, _ in to_read), readings, strict=True))
    return [
        read.get(source[i], []) if image is not None and _has_text(boxes[i]) else []
        for i, image in enumerate(images)
    ]


def _has_text(boxes: np.ndarray | None) -> bool:
    return boxes is not None and len(boxes) > 0


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
        rows: list[list[tuple[tuple[float, float, float, float], str]]] = []
        for rect, text in sorted(block["lines"], key=lambda item: (item[0][1] + item[0][3]) / 2):
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
    return " ".join(TOKEN.findall(text.lower()))


def _similar(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= TEXT_SAME_RATIO


def text_spans(
    times: list[float], readings: list[list[str]], cuts: list[float], duration: float
) -> list[dict[str, Any]]:
    """Follow each text block across samples; near-identical consecutive readings form one span."""
    open_spans: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for index, blocks in enumerate(readings):
        still_open: list[dict[str, Any]] = []
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
    return _kinetic_captions_joined(spans)


def _kinetic_captions_joined(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A caption that builds up word by word ("Tired", then "Tired of cold coffee?") is one text
    on screen from its first word: a span whose words begin the span that follows it without a
    gap is folded into that one."""
    joined: list[tuple[dict[str, Any], list[str]]] = []  # (span, its words)
    for span in spans:
        words = _normal(span["text"]).split()
        for n, (earlier, begun) in enumerate(joined):
            if (
                earlier["end_s"] == span["start_s"]
                and len(begun) < len(words)
                and words[: len(begun)] == begun
            ):
                del joined[n]
                span = {**span, "start_s": earlier["start_s"]}
                break
        joined.append((span, words))
    return sorted((span for span, _ in joined), key=lambda s: (s["start_s"], s["end_s"]))
