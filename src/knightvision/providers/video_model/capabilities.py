"""What an upstream renders natively, and how a requested shape is reached from it (D15).

An upstream is one adapter's upstream model, serving a public model. It declares its native
durations, aspect ratios, resolutions, prompt limit and character support. A requested shape the
upstream lacks is either reached by a declared transform (render a longer native duration and
trim; render a native aspect and centre-crop to 1:1; render a higher native resolution and scale
down), or there is no plan and the request is refused before any charge. Never a different shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from knightvision.media.shapes import FRAME_SIZES

RESOLUTION_ORDER = ("720p", "1080p")

# Transform names, as recorded in a plan and in provenance.
TRIM = "trim"
CROP = "crop"
SCALE = "scale"


@dataclass(frozen=True)
class UpstreamCapabilities:
    durations: tuple[int, ...]
    aspect_ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    max_prompt_chars: int
    characters: bool = False
    # Declared transforms this upstream may use to reach a shape it lacks.
    trim: bool = True  # render the next longer native duration, cut to the exact length
    crop_to_square: bool = True  # render a native wide/tall frame, centre-crop to 1:1
    downscale: bool = True  # render a higher native resolution, scale to the exact WxH


@dataclass(frozen=True)
class RenderPlan:
    """What to ask the upstream for, and the declared transforms that turn it into the request."""

    duration: int
    aspect_ratio: str
    resolution: str
    transforms: tuple[str, ...]

    @property
    def frame_size(self) -> tuple[int, int]:
        return FRAME_SIZES[(self.resolution, self.aspect_ratio)]


# A 1:1 request on an upstream without 1:1 renders this native aspect and crops its sides: subjects
# sit mid-frame horizontally far more often than vertically, and the full height stays in frame.
SQUARE_SOURCE_ORDER = ("16:9", "9:16")


def plan_render(
    caps: UpstreamCapabilities, duration: int, aspect_ratio: str, resolution: str
) -> RenderPlan | None:
    """The cheapest native shape that reaches the request through declared transforms, or None."""
    transforms: list[str] = []

    if duration in caps.durations:
        native_duration = duration
    else:
        longer = [d for d in caps.durations if d > duration]
        if not caps.trim or not longer:
            return None
        native_duration = min(longer)
        transforms.append(TRIM)

    if aspect_ratio in caps.aspect_ratios:
        native_aspect = aspect_ratio
    elif aspect_ratio == "1:1" and caps.crop_to_square:
        candidates = [a for a in SQUARE_SOURCE_ORDER if a in caps.aspect_ratios]
        if not candidates:
            return None
        native_aspect = candidates[0]
        transforms.append(CROP)
    else:
        return None

    if resolution in caps.resolutions:
        native_resolution = resolution
    else:
        wanted = RESOLUTION_ORDER.index(resolution) if resolution in RESOLUTION_ORDER else -1
        higher = (
            [r for r in RESOLUTION_ORDER[wanted + 1 :] if r in caps.resolutions]
            if wanted >= 0
            else []
        )
        if not caps.downscale or not higher:
            return None
        native_resolution = higher[0]
        transforms.append(SCALE)

    if CROP in transforms and SCALE not in transforms:
        # Cropping 1280x720 to 720x720 needs no scaling; any other pairing is scaled after the crop.
        crop_w, crop_h = FRAME_SIZES[(native_resolution, native_aspect)]
        side = min(crop_w, crop_h)
        if (side, side) != FRAME_SIZES[(resolution, aspect_ratio)]:
            transforms.append(SCALE)
    return RenderPlan(native_duration, native_aspect, native_resolution, tuple(transforms))
