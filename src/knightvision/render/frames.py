"""Scene visuals: role-coloured backgrounds with Ken Burns motion, templates, transitions.

Everything expensive is prepared once per scene (:class:`SceneLook`): the background is drawn at
a quarter of the output resolution (it is a soft gradient, so nothing is lost) and slightly
larger than needed, and the role's template (:mod:`.scenes`) becomes pre-converted YUV layers
and sprites. Per frame we only crop and scale that small background (sub-pixel zoom/pan), let
libswscale upscale it straight into yuv420p, and blend the layers into the planes.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFilter

from .colour import RGB, blend, hsv
from .palette import WHITE, BrandPalette, readable_background, text_colour_on
from .presenter.live import LivePresenter
from .roles import Role, brand_name, product_name
from .safe_zones import safe_box
from .scenes import SceneLayers, apply_transition, build_layers, transition_frames, transition_kind
from .scenes.presenter import presenter_boxes, shows_presenter, text_region
from .scenes.reference import reference_inset as reference_inset
from .storyboard import Scene
from .word_timing import SpokenWord
from .yuv import YUV_FORMAT, fill_rect

#: Background is drawn at 1/BACKGROUND_DIVISOR of the output size.
BACKGROUND_DIVISOR = 4
#: Extra background margin so zoom and pan never run out of pixels.
OVERSCAN = 1.18
#: Zoom travelled over one scene (1.0 -> 1.0 + ZOOM, or back).
ZOOM = 0.15
#: Strength of the background's soft light blobs; text contrast is checked against it.
GLOW = 0.16

# (saturation, value) of the gradient's two ends per role: the problem is muted, the product
# bright, the rest deep enough for big light text.
_ROLE_TONES: dict[Role, tuple[tuple[float, float], tuple[float, float]]] = {
    Role.HOOK: ((0.80, 0.62), (0.90, 0.20)),
    Role.PROBLEM: ((0.14, 0.46), (0.18, 0.16)),
    Role.PRODUCT: ((0.45, 1.00), (0.80, 0.82)),
    Role.PROOF: ((0.55, 0.30), (0.65, 0.08)),
    Role.OFFER: ((0.75, 0.40), (0.85, 0.12)),
    Role.END_CARD: ((0.45, 0.20), (0.55, 0.06)),
}


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
    text: RGB = WHITE


def scene_palettes(scenes: list[Scene], brand: BrandPalette | None = None) -> list[Palette]:
    """One palette per scene: the brand hue in its role's tone, text readable on it.

    The offer turns to the complementary hue so it stands apart; a scene of the same role as the
    one before shifts its hue a little so the cut is still seen. The text colour (white or ink)
    is the one with the better WCAG contrast on both gradient ends and their lightest glow, and
    the gradient gives way until that contrast is at least 4.5:1.
    """
    brand = brand or BrandPalette.from_request(" ".join(s.text for s in scenes))
    palettes: list[Palette] = []
    previous: Role | None = None
    for scene in scenes:
        seed = _digest(scene.text, scene.index)
        hue = brand.hue + (0.5 if scene.role is Role.OFFER else 0.0)
        if scene.role is previous:
            hue += 0.04 + seed[1] / 2560
        previous = scene.role
        (s1, v1), (s2, v2) = _ROLE_TONES[scene.role]
        top, bottom = hsv(hue, s1, v1), hsv(hue + 0.05, s2, v2)
        text = text_colour_on(_lit(top), _lit(bottom), top, bottom)
        top = readable_background(top, text, GLOW)
        bottom = readable_background(bottom, text, GLOW)
        palettes.append(
            Palette(top=top, bottom=bottom, accent=brand.brand, hue=hue % 1.0, seed=seed, text=text)
        )
    return palettes


def _lit(colour: RGB) -> RGB:
    """The colour under the background's brightest glow (what light text must still beat)."""
    return blend(colour, WHITE, GLOW)


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
        shade = (255, 255, 255, round(GLOW * 255)) if i % 2 == 0 else (0, 0, 0, 55)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=shade)
    glow = glow.filter(ImageFilter.GaussianBlur(radius=min(w, h) * 0.09))
    image.paste(glow, (0, 0), glow)
    return image


def _ease(t: float) -> float:
    """Mostly linear: the camera never stops inside a scene (a still frame reads as a frozen
    video); a little smoothstep keeps the speed from feeling mechanical."""
    t = min(max(t, 0.0), 1.0)
    return 0.2 * t * t * (3 - 2 * t) + 0.8 * t


class SceneLook:
    """Prerendered assets for one scene plus its cheap per-frame motion."""

    def __init__(
        self,
        scene: Scene,
        palette: Palette,
        width: int,
        height: int,
        reference: Path | None = None,
        name: str | None = None,
        cast: tuple[LivePresenter, ...] = (),
        mouth: Callable[[int], float] | None = None,
        words: tuple[SpokenWord, ...] = (),
        hook: str = "",
    ) -> None:
        self.scene = scene
        self.cast = cast
        self._mouth = mouth
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
        text_box = (
            text_region(
                safe_box(width, height),
                width,
                height,
                min(p.head_top for p in cast),
                [p.box for p in cast],
            )
            if cast
            else None
        )
        self.layers: SceneLayers = build_layers(
            scene,
            palette.text,
            palette.accent,
            width,
            height,
            reference,
            name,
            text_box,
            words,
            hook,
        )
        seed = palette.seed
        self.zoom_in = seed[20] % 2 == 0
        self.pan = ((seed[21] / 255 - 0.5) * 2, (seed[22] / 255 - 0.5) * 2)

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
        self._draw_cast(frame, frame_index)
        self.layers.draw(frame, frame_index - scene.start_frame)
        return frame

    def _draw_cast(self, frame: av.VideoFrame, frame_index: int) -> None:
        """The scene's presenters; two sharing the frame take turns to speak, half a scene each."""
        if not self.cast:
            return
        into = frame_index - self.scene.start_frame
        speaker = min(len(self.cast) - 1, into * len(self.cast) // max(1, self.scene.frame_count))
        voice = self._mouth(frame_index) if self._mouth else 0.0
        for k, presenter in enumerate(self.cast):
            presenter.draw(frame, frame_index, voice if k == speaker else 0.0)


class FrameComposer:
    """Yields every output frame in order, building each scene's look lazily."""

    def __init__(
        self,
        scenes: list[Scene],
        width: int,
        height: int,
        references: tuple[Path, ...] = (),
        brand: BrandPalette | None = None,
        presenters: tuple[str, ...] = (),
        voice_levels: Callable[[int], np.ndarray] | None = None,
        spoken_words: tuple[SpokenWord, ...] = (),
    ) -> None:
        self.scenes = scenes
        self._words_of: dict[int, tuple[SpokenWord, ...]] = {}
        for word in spoken_words:
            self._words_of[word.scene] = (*self._words_of.get(word.scene, ()), word)
        self.width = width
        self.height = height
        self.references = references
        self.palettes = scene_palettes(scenes, brand)
        self.total_frames = scenes[-1].end_frame if scenes else 0
        self._looks: dict[int, SceneLook] = {}
        text = " ".join(scene.text for scene in scenes)
        self.name = product_name(text)
        # What the end card is titled by: the product's name, else the brand its address spells
        # (else the template falls back on the offer or the hook).
        self.title = self.name or brand_name(text)
        self.hook = scenes[0].text if scenes and scenes[0].role is not Role.END_CARD else ""
        # Reference pictures go to the product scenes (to the hook when there is none), in turn.
        shows = [s.index for s in scenes if s.role is Role.PRODUCT] or [0]
        self._reference_of = (
            {index: references[n % len(references)] for n, index in enumerate(shows)}
            if references
            else {}
        )
        self._cast_of = self._cast_scenes(presenters)
        self._presenters: dict[tuple[str, tuple[int, int, int, int]], LivePresenter] = {}
        self._voice_levels = voice_levels
        self._levels: np.ndarray | None = None

    def _cast_scenes(self, presenters: tuple[str, ...]) -> dict[int, tuple[str, ...]]:
        """Which characters stand in which scene (D16).

        Scenes with a presenter role (hook, problem, product) take the characters in turn; when
        there are fewer such scenes than characters, they all share those scenes' frame.
        """
        if not presenters or not self.scenes:
            return {}
        shows = [s.index for s in self.scenes if shows_presenter(s.role) and s.text.strip()] or [
            self.scenes[0].index
        ]
        if len(shows) < len(presenters):
            return dict.fromkeys(shows, presenters)
        return {index: (presenters[n % len(presenters)],) for n, index in enumerate(shows)}

    def cast(self, scene: Scene) -> tuple[LivePresenter, ...]:
        """The presenters standing in this scene, in their places."""
        prompts = self._cast_of.get(scene.index, ())
        role = scene.role if shows_presenter(scene.role) else Role.HOOK
        boxes = presenter_boxes(role, self.width, self.height, len(prompts))
        cast = []
        for prompt, box in zip(prompts, boxes, strict=True):
            key = (prompt, box)
            if key not in self._presenters:  # drawn once per place, reused by later scenes
                self._presenters[key] = LivePresenter(prompt, box, self.total_frames, scene.fps)
            cast.append(self._presenters[key])
        return tuple(cast)

    def _mouth(self, frame_index: int) -> float:
        """How open the speaking presenter's mouth is: the voice's loudness at this frame."""
        if self._voice_levels is None:
            return 0.0
        if self._levels is None:  # waits for the voice the first time a presenter speaks
            self._levels = self._voice_levels(self.total_frames)
        return float(self._levels[frame_index]) if frame_index < len(self._levels) else 0.0

    def _look(self, index: int) -> SceneLook:
        look = self._looks.get(index)
        if look is None:
            look = SceneLook(
                self.scenes[index],
                self.palettes[index],
                self.width,
                self.height,
                self._reference_of.get(index),
                self.title if self.scenes[index].role is Role.END_CARD else self.name,
                self.cast(self.scenes[index]),
                self._mouth,
                self._words_of.get(self.scenes[index].index, ()),
                self.hook,
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
        """Every frame of the video, with a transition into each scene after the first."""
        for index, scene in enumerate(self.scenes):
            look = self._look(index)
            fade_frames = transition_frames(scene.fps, scene.frame_count) if index else 0
            kind = transition_kind(scene.role)
            for frame_index in range(scene.start_frame, scene.end_frame):
                frame = look.frame(frame_index)
                into_scene = frame_index - scene.start_frame
                if into_scene < fade_frames:
                    previous = self._look(index - 1).frame(frame_index)
                    apply_transition(kind, frame, previous, (into_scene + 1) / (fade_frames + 1))
                self._progress_bar(frame, frame_index, look.palette.accent)
                frame.pts = frame_index
                yield frame
