"""Scene visuals: deterministic backgrounds, Ken Burns motion, layered frames.

Everything expensive is prepared once per scene (:class:`SceneLook`): the
background is drawn at a quarter of the output resolution (it is a soft
gradient, so nothing is lost) and slightly larger than needed, and the caption
and reference inset become pre-converted YUV overlays. Per frame we only crop
and scale that small background (sub-pixel zoom/pan), draw a few drifting
light particles on it, let libswscale upscale it straight into yuv420p, and
blend the overlays into the planes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from .captions import render_caption
from .colour import RGB, hsv
from .storyboard import Scene
from .yuv import YUV_FORMAT, Overlay, crossfade, fill_rect

#: Background is drawn at 1/BACKGROUND_DIVISOR of the output size.
BACKGROUND_DIVISOR = 4
#: Extra background margin so zoom and pan never run out of pixels.
OVERSCAN = 1.18
#: Zoom travelled over one scene (1.0 -> 1.0 + ZOOM, or back).
ZOOM = 0.12
CROSSFADE_SECONDS = 0.3
PARTICLES = 9
PARTICLE_RADII = (0.014, 0.02, 0.027)  # of the frame's short side


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


@dataclass(frozen=True)
class Palette:
    """Colours for one scene: gradient ends, a light accent and a motion seed."""

    top: RGB
    bottom: RGB
    accent: RGB
    hue: float
    seed: bytes


def scene_palettes(scenes: list[Scene]) -> list[Palette]:
    """One palette per scene, derived from a hash of the scene's text.

    Consecutive scenes are forced at least 0.2 of the hue wheel apart so a
    cut is always visible, even for repeated or empty captions.
    """
    palettes: list[Palette] = []
    previous_hue: float | None = None
    for scene in scenes:
        seed = _digest(scene.text, scene.index)
        hue = seed[0] / 256
        if previous_hue is not None:
            gap = (hue - previous_hue) % 1.0
            if min(gap, 1.0 - gap) < 0.2:
                hue = (previous_hue + 0.33 + seed[1] / 2560) % 1.0
        previous_hue = hue
        shift = 0.06 + seed[2] / 2560
        palettes.append(
            Palette(
                top=hsv(hue, 0.70 + seed[3] / 1280, 0.78 + seed[4] / 2560),
                bottom=hsv(hue + shift, 0.85, 0.28 + seed[5] / 2560),
                accent=hsv(hue - 0.05, 0.35, 1.0),
                hue=hue,
                seed=seed,
            )
        )
    return palettes


def draw_background(palette: Palette, size: tuple[int, int]) -> Image.Image:
    """Diagonal gradient with a few soft light blobs, at the given (small) size."""
    w, h = size
    seed = palette.seed
    angle = seed[6] / 256 * math.tau
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    axis = (xs / w - 0.5) * math.cos(angle) + (ys / h - 0.5) * math.sin(angle)
    t = np.clip(axis + 0.5, 0.0, 1.0)[:, :, None]
    top = np.array(palette.top, dtype=np.float32)
    bottom = np.array(palette.bottom, dtype=np.float32)
    image = Image.fromarray((top * (1 - t) + bottom * t).astype(np.uint8), "RGB")
    glow = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(glow)
    for i in range(4):
        cx = seed[8 + i] / 255 * w
        cy = seed[12 + i] / 255 * h
        radius = (0.18 + seed[16 + i] / 255 * 0.25) * min(w, h)
        shade = (255, 255, 255, 60) if i % 2 == 0 else (0, 0, 0, 55)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=shade)
    glow = glow.filter(ImageFilter.GaussianBlur(radius=min(w, h) * 0.09))
    image.paste(glow, (0, 0), glow)
    return image


def particle_sprite(radius: int, colour: RGB) -> Overlay:
    """A soft, anti-aliased light dot, converted to YUV once per scene."""
    radius = max(2, radius)
    size = 2 * radius + 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(xs - size / 2 + 0.5, ys - size / 2 + 0.5) / radius
    alpha = (
        np.clip((1.0 - distance) * 3.0, 0.0, 1.0) * 0.45 + np.clip(1.0 - distance, 0.0, 1.0) * 0.2
    )
    rgba = np.empty((size, size, 4), dtype=np.uint8)
    rgba[:, :, :3] = colour
    rgba[:, :, 3] = (alpha * 255).astype(np.uint8)
    return Overlay.from_rgba(Image.fromarray(rgba, "RGBA"))


def reference_inset(path: Path, width: int, height: int) -> tuple[Image.Image, tuple[int, int]]:
    """A reference frame as a white-framed inset in the upper part of the frame."""
    with Image.open(path) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
    short = min(width, height)
    box = round(short * (0.46 if height > width else 0.34))
    picture = ImageOps.contain(picture, (box, box))
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
    x = (width - layer.width) // 2
    y = round(height * (0.10 if height > width else 0.06))
    return layer, (x, y)


def _ease(t: float) -> float:
    """Smoothstep, so motion starts and ends gently."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


class SceneLook:
    """Prerendered assets for one scene plus its cheap per-frame motion."""

    def __init__(
        self,
        scene: Scene,
        palette: Palette,
        width: int,
        height: int,
        reference: Path | None = None,
    ) -> None:
        self.scene = scene
        self.palette = palette
        self.width = width
        self.height = height
        self.small_size = (width // BACKGROUND_DIVISOR, height // BACKGROUND_DIVISOR)
        # One scaler per scene: VideoFrame.reformat() builds a new SwsContext
        # on every call, which measured twice the cost of the scaling itself.
        self._scaler = VideoReformatter()
        sw, sh = self.small_size
        self.background = draw_background(
            palette, (math.ceil(sw * OVERSCAN), math.ceil(sh * OVERSCAN))
        )
        self.overlays: list[Overlay] = []
        if reference is not None:
            self.overlays.append(Overlay.from_rgba(*reference_inset(reference, width, height)))
        caption = render_caption(scene.text, width, height)
        if caption is not None:
            self.overlays.append(Overlay.from_rgba(*caption))
        seed = palette.seed
        self.zoom_in = seed[20] % 2 == 0
        self.pan = ((seed[21] / 255 - 0.5) * 2, (seed[22] / 255 - 0.5) * 2)
        short = min(width, height)
        self.sprites = [particle_sprite(round(short * r), palette.accent) for r in PARTICLE_RADII]
        self.particles = [
            (
                seed[23 + i] / 255,
                seed[(i * 3) % 32] / 255,
                0.6 + seed[(i * 5 + 1) % 32] / 255,
                i % len(self.sprites),
            )
            for i in range(PARTICLES)
        ]

    def _crop_box(self, t: float) -> tuple[float, float, float, float]:
        """Sub-pixel crop of the oversized background for progress t in [0, 1]."""
        bw, bh = self.background.size
        sw, sh = self.small_size
        e = _ease(t)
        zoom = 1.0 + ZOOM * (e if self.zoom_in else 1.0 - e)
        cw, ch = sw / zoom, sh / zoom
        free_x, free_y = bw - cw, bh - ch
        cx = free_x / 2 + self.pan[0] * free_x / 2 * (e - 0.5)
        cy = free_y / 2 + self.pan[1] * free_y / 2 * (e - 0.5)
        return cx, cy, cx + cw, cy + ch

    def _draw_particles(self, frame: av.VideoFrame, seconds: float) -> None:
        """Soft light dots drifting upwards: the always-moving element."""
        for x0, y0, speed, kind in self.particles:
            sprite = self.sprites[kind]
            y = (y0 - seconds * 0.06 * speed) % 1.0
            x = x0 + 0.02 * math.sin(seconds * 1.3 * speed + x0 * 10)
            w, h = sprite.size
            sprite.blend_into(
                frame,
                (round(x * self.width - w / 2), round((y * 1.1 - 0.05) * self.height - h / 2)),
            )

    def frame(self, frame_index: int) -> av.VideoFrame:
        """The scene's yuv420p frame at an absolute frame index (may run past the scene)."""
        scene = self.scene
        t = (frame_index - scene.start_frame) / max(1, scene.frame_count - 1)
        small = self.background.resize(
            self.small_size, Image.Resampling.BILINEAR, box=self._crop_box(t)
        )
        frame = self._scaler.reformat(
            av.VideoFrame.from_ndarray(np.asarray(small), format="rgb24"),
            width=self.width,
            height=self.height,
            format=YUV_FORMAT,
            interpolation="BILINEAR",
        )
        self._draw_particles(frame, frame_index / scene.fps)
        for overlay in self.overlays:
            overlay.blend_into(frame)
        return frame


class FrameComposer:
    """Yields every output frame in order, building each scene's look lazily."""

    def __init__(
        self,
        scenes: list[Scene],
        width: int,
        height: int,
        references: tuple[Path, ...] = (),
    ) -> None:
        self.scenes = scenes
        self.width = width
        self.height = height
        self.references = references
        self.palettes = scene_palettes(scenes)
        self.total_frames = scenes[-1].end_frame if scenes else 0
        self._looks: dict[int, SceneLook] = {}

    def _look(self, index: int) -> SceneLook:
        look = self._looks.get(index)
        if look is None:
            reference = self.references[index % len(self.references)] if self.references else None
            look = SceneLook(
                self.scenes[index], self.palettes[index], self.width, self.height, reference
            )
            self._looks = {i: v for i, v in self._looks.items() if i >= index - 1}
            self._looks[index] = look
        return look

    def _progress_bar(self, frame: av.VideoFrame, frame_index: int, accent: RGB) -> None:
        """Thin bar along the bottom edge growing with playback time."""
        thickness = max(4, round(self.height * 0.006))
        width = round(self.width * (frame_index + 1) / self.total_frames)
        fill_rect(frame, (0, self.height - thickness, width, self.height), accent)

    def frames(self) -> Iterator[av.VideoFrame]:
        """Every frame of the video, with short cross-fades at scene changes."""
        fade_frames = 0
        for index, scene in enumerate(self.scenes):
            look = self._look(index)
            if index > 0:
                fade_frames = min(round(CROSSFADE_SECONDS * scene.fps), scene.frame_count // 3)
            for frame_index in range(scene.start_frame, scene.end_frame):
                frame = look.frame(frame_index)
                into_scene = frame_index - scene.start_frame
                if index > 0 and into_scene < fade_frames:
                    previous = self._look(index - 1).frame(frame_index)
                    crossfade(frame, previous, (into_scene + 1) / (fade_frames + 1))
                self._progress_bar(frame, frame_index, look.palette.accent)
                frame.pts = frame_index
                yield frame
