"""A reference picture (a product or character still) as a framed inset above the scene's line.

A character's still shows a person: of its stills we show those where the person's eyes are seen
open (OpenCV's Haar eye cascade), never a still taken mid-blink, and the picture slowly pushes in
(a Ken Burns move) so the person never sits frozen on screen.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from ..yuv import Overlay

#: How far the picture pushes in over a scene, and how many frames share one step of it.
PUSH_IN = 0.08
FRAMES_PER_STEP = 2

_CASCADE_LOCK = threading.Lock()  # a cascade is not documented as thread-safe
_EYES: list[Any] = []


def _eye_cascade() -> Any:
    if not _EYES:
        # cv2.data exists at run time; the OpenCV stubs leave it out
        folder = cv2.data.haarcascades  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(str(Path(folder) / "haarcascade_eye.xml"))
        if cascade.empty():
            raise RuntimeError("cannot load the eye cascade")
        _EYES.append(cascade)
    return _EYES[0]


def eyes_seen(picture: Image.Image) -> int:
    """How many open eyes the Haar eye cascade finds in the picture (closed eyes are not found)."""
    grey = np.asarray(picture.convert("L"))
    side = max(8, min(grey.shape) // 60)
    with _CASCADE_LOCK:
        found = _eye_cascade().detectMultiScale(grey, 1.05, 3, minSize=(side, side))
    return len(found)


def open_eyed(paths: tuple[Path, ...] | list[Path]) -> tuple[Path, ...]:
    """The stills where the most open eyes are seen; all of them when none shows an eye (a
    product, a face too small or turned away: nothing tells a blink there)."""
    counts = []
    for path in paths:
        with Image.open(path) as source:
            counts.append(eyes_seen(ImageOps.exif_transpose(source)))
    best = max(counts, default=0)
    return tuple(path for path, count in zip(paths, counts, strict=True) if count == best)


def _picture(path: Path, width: int, height: int) -> Image.Image:
    with Image.open(path) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
    short = min(width, height)
    box = round(short * (0.46 if height > width else 0.34))
    return ImageOps.contain(picture, (box, box))


def _frame_picture(picture: Image.Image, width: int, height: int) -> tuple[Image.Image, int, int]:
    """The picture in a white frame with a soft shadow; the layer and the picture's offset."""
    short = min(width, height)
    border = max(4, round(short * 0.008))
    framed = ImageOps.expand(picture, border=border, fill=(255, 255, 255))
    shadow_pad = border * 2
    layer = Image.new(
        "RGBA", (framed.width + 2 * shadow_pad, framed.height + 2 * shadow_pad), (0, 0, 0, 0)
    )
    ImageDraw.Draw(layer).rectangle(
        (shadow_pad, shadow_pad * 2, layer.width - shadow_pad, layer.height - 1),
        fill=(0, 0, 0, 110),
    )
    layer = layer.filter(ImageFilter.GaussianBlur(radius=border))
    layer.paste(framed, (shadow_pad, shadow_pad))
    offset = shadow_pad + border
    return layer, offset, offset


def _position(layer: Image.Image, width: int, height: int) -> tuple[int, int]:
    return (width - layer.width) // 2, round(height * (0.10 if height > width else 0.06))


def reference_inset(path: Path, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """A reference frame as a white-framed inset in the upper part of the frame."""
    layer, _, _ = _frame_picture(_picture(path, width, height), width, height)
    return layer, _position(layer, width, height)


class ReferenceInset:
    """The framed inset whose picture slowly pushes in over the scene (steps drawn on demand)."""

    def __init__(self, path: Path, width: int, height: int, frame_count: int) -> None:
        self.picture = _picture(path, width, height)
        self.layer, self._dx, self._dy = _frame_picture(self.picture, width, height)
        self.position = _position(self.layer, width, height)
        x, y = self.position
        self.box = (x, y, x + self.layer.width, y + self.layer.height)
        self._steps = max(1, frame_count // FRAMES_PER_STEP)
        self._drawn: dict[int, Overlay] = {}

    def _step(self, step: int) -> Overlay:
        overlay = self._drawn.get(step)
        if overlay is None:
            w, h = self.picture.size
            zoom = 1 + PUSH_IN * step / self._steps
            cw, ch = w / zoom, h / zoom
            crop = ((w - cw) / 2, (h - ch) * 0.4, (w + cw) / 2, (h - ch) * 0.4 + ch)  # the face
            moved = self.picture.resize((w, h), Image.Resampling.BILINEAR, box=crop)
            layer = self.layer.copy()
            layer.paste(moved, (self._dx, self._dy))
            overlay = Overlay.from_rgba(layer, self.position)
            self._drawn = {step: overlay}  # frames come in order: only the current step is kept
        return overlay

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        self._step(min(self._steps, max(0, tick) // FRAMES_PER_STEP)).blend_into(frame)
