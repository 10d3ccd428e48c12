"""Compositing directly in the encoder's yuv420p planes.

Frames are assembled in YUV rather than RGB so nothing is converted twice:
the background is scaled and converted to yuv420p in one libswscale call, and
static layers (caption, reference inset) are converted once per scene and
alpha-blended into the planes with integer numpy maths on their bounding box
only. All colour conversion goes through libswscale so every layer uses the
same matrix and range.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

YUV_FORMAT = "yuv420p"


def planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable numpy views (no copies) of a yuv420p frame's Y, U, V planes."""
    views = []
    for plane in frame.planes:
        buf = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(
            plane.height, plane.line_size
        )
        views.append(buf[:, : plane.width])
    y, u, v = views
    return y, u, v


_SCALERS = threading.local()


def rgb_to_yuv420(pixels: np.ndarray) -> av.VideoFrame:
    """Convert an (even-sized) RGB or RGBA array (its alpha ignored) to a yuv420p frame via
    libswscale. RGBA goes in as it is (copying out its RGB cost more than the conversion), and
    each thread keeps its scaler: ``VideoFrame.reformat()`` builds a new one per call, whose
    set-up cost more than converting a caption."""
    scaler = getattr(_SCALERS, "scaler", None)
    if scaler is None:
        scaler = _SCALERS.scaler = VideoReformatter()
    packed = "rgba" if pixels.shape[2] == 4 else "rgb24"
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format=packed)
    return scaler.reformat(frame, format=YUV_FORMAT)


@lru_cache(maxsize=256)
def yuv_color(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The (Y, U, V) swscale produces for a solid RGB colour."""
    y, u, v = planes(rgb_to_yuv420(np.full((2, 2, 3), rgb, dtype=np.uint8)))
    return int(y[0, 0]), int(u[0, 0]), int(v[0, 0])


def _even_floor(value: int) -> int:
    return value - (value % 2)


@dataclass(frozen=True)
class Overlay:
    """An RGBA layer pre-converted to yuv420p with 8-bit blend weights.

    Blending is out = (under * (256 - a) + layer * a) >> 8 with a in 0..256,
    so a fully opaque pixel copies exactly and a transparent one is untouched.
    Positions snap to the 2x2 chroma grid.
    """

    x: int
    y: int
    premultiplied: tuple[np.ndarray, np.ndarray, np.ndarray]
    inverse_alpha: tuple[np.ndarray, np.ndarray, np.ndarray]

    @classmethod
    def from_rgba(cls, image: Image.Image, position: tuple[int, int] = (0, 0)) -> Overlay:
        """Convert the layer once (padded to even size) for blending at position."""
        x, y = position
        x0, y0 = _even_floor(x), _even_floor(y)
        width = image.width + (x - x0)
        height = image.height + (y - y0)
        canvas = Image.new("RGBA", (width + width % 2, height + height % 2), (0, 0, 0, 0))
        canvas.paste(image, (x - x0, y - y0))
        rgba = np.asarray(canvas)
        alpha = rgba[:, :, 3].astype(np.uint16)
        alpha = (alpha * 256 + 127) // 255
        chroma_alpha = (
            alpha[0::2, 0::2] + alpha[1::2, 0::2] + alpha[0::2, 1::2] + alpha[1::2, 1::2] + 2
        ) // 4
        layer = planes(rgb_to_yuv420(rgba))
        weights = (alpha, chroma_alpha, chroma_alpha)
        y_layer, u_layer, v_layer = (
            p.astype(np.uint16) * w for p, w in zip(layer, weights, strict=True)
        )
        y_inverse, u_inverse, v_inverse = ((256 - w).astype(np.uint16) for w in weights)
        return cls(x0, y0, (y_layer, u_layer, v_layer), (y_inverse, u_inverse, v_inverse))

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.premultiplied[0].shape
        return width, height

    def blend_into(self, frame: av.VideoFrame, at: tuple[int, int] | None = None) -> None:
        """Alpha-blend into the frame's planes in place, clipped to the frame.

        `at` moves the layer (top-left corner) for this call, for sprites.
        """
        x, y = (self.x, self.y) if at is None else (_even_floor(at[0]), _even_floor(at[1]))
        width, height = self.size
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(frame.width, x + width), min(frame.height, y + height)
        if x1 <= x0 or y1 <= y0:
            return
        for index, plane in enumerate(planes(frame)):
            s = 1 if index == 0 else 2
            region = plane[y0 // s : y1 // s, x0 // s : x1 // s]
            window = (slice((y0 - y) // s, (y1 - y) // s), slice((x0 - x) // s, (x1 - x) // s))
            mixed = region * self.inverse_alpha[index][window]
            mixed += self.premultiplied[index][window]
            mixed >>= 8
            region[...] = mixed


def crossfade(target: av.VideoFrame, other: av.VideoFrame, weight: float) -> None:
    """target = target * weight + other * (1 - weight), in place, all planes."""
    w = round(weight * 256)
    for dst, src in zip(planes(target), planes(other), strict=True):
        mixed = dst.astype(np.uint16) * w
        mixed += src.astype(np.uint16) * (256 - w)
        mixed >>= 8
        dst[...] = mixed


def fill_rect(
    frame: av.VideoFrame, box: tuple[int, int, int, int], rgb: tuple[int, int, int]
) -> None:
    """Paint an even-aligned rectangle (x0, y0, x1, y1) in a solid colour."""
    x0, y0, x1, y1 = (_even_floor(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        return
    colour = yuv_color(rgb)
    for index, plane in enumerate(planes(frame)):
        s = 1 if index == 0 else 2
        plane[y0 // s : y1 // s, x0 // s : x1 // s] = colour[index]
