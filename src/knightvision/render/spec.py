"""What a local render may be asked for, checked once for both renderers.

The storyboard (:class:`RenderSpec`) and the presenter (:class:`PresenterSpec`) share the sizes,
the duration limit and the frame-rate range, so a job that one refuses the other refuses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knightvision.media.music_styles import MUSIC_STYLES
from knightvision.media.shapes import FRAME_SIZES

from .palette import parse_brand_color

SUPPORTED_SIZES = frozenset(FRAME_SIZES.values())
MAX_PROMPT_CHARS = 2000
MAX_DURATION = 60  # seconds
MAX_FPS = 60
DEFAULT_FPS = 30
PROGRESS_EVERY = 10  # frames between progress callbacks


def check_clip(duration: int, width: int, height: int, fps: int) -> None:
    """Refuse a duration, size or frame rate no local renderer produces (ValueError)."""
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not 1 <= duration <= MAX_DURATION
    ):
        raise ValueError(f"duration must be a whole number of seconds in 1..{MAX_DURATION}")
    if (width, height) not in SUPPORTED_SIZES:
        raise ValueError(f"unsupported size {width}x{height}")
    if not 1 <= fps <= MAX_FPS:
        raise ValueError(f"fps must be in 1..{MAX_FPS}")


@dataclass(frozen=True)
class RenderSpec:
    """A storyboard video to render; validated on construction so bad jobs fail fast."""

    prompt: str
    duration: int
    width: int
    height: int
    fps: int = DEFAULT_FPS
    voice: bool = True
    reference_images: tuple[Path, ...] = ()
    brand_color: str | None = None  # "#RRGGBB"; else the palette comes from the prompt
    music: bool = True  # a music bed under the voice (and in its place when there is none)
    style: str | None = None  # the bed's mood (MUSIC_STYLES); None: chosen from the prompt
    # Characters our presenter renderer made, drawn live in the scenes: each one's prompt (D16).
    presenters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt longer than {MAX_PROMPT_CHARS} characters")
        if self.brand_color is not None:
            parse_brand_color(self.brand_color)
        if self.style is not None and self.style not in MUSIC_STYLES:
            raise ValueError(f"style must be one of {', '.join(MUSIC_STYLES)}")
        check_clip(self.duration, self.width, self.height, self.fps)
        object.__setattr__(self, "reference_images", tuple(Path(p) for p in self.reference_images))
        object.__setattr__(self, "presenters", tuple(self.presenters))


@dataclass(frozen=True)
class PresenterSpec:
    """A presenter video to render; validated on construction."""

    prompt: str
    duration: int
    width: int
    height: int
    fps: int = DEFAULT_FPS

    def __post_init__(self) -> None:
        check_clip(self.duration, self.width, self.height, self.fps)
