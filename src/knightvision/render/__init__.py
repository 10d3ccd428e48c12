"""`local-storyboard`: an offline prompt -> captioned, voiced MP4 renderer.

A pure library used by the video worker. :mod:`.spec` says what may be rendered. A storyboard
video (:mod:`.storyboard_video`) plans scenes from the prompt (:mod:`.storyboard`) with the role
each plays in the ad (:mod:`.roles`), draws them from per-role templates (:mod:`.frames`,
:mod:`.scenes`), speaks them (:mod:`.speech`), lays a synthesized music bed under the voice
(:mod:`.music`, mixed by :mod:`.mix` to the loudness of :mod:`.loudness`) and muxes H.264 + AAC
(:mod:`.encode`). Character videos are a presenter figure built from the prompt
(:mod:`.presenter`). Design and measurements: docs/adr/0002-renderer.md.
"""

from .presenter import PresenterLook, PresenterReport, presenter_look, render_presenter
from .spec import SUPPORTED_SIZES, PresenterSpec, RenderSpec
from .speech import Voice, load_voice
from .storyboard import Scene, plan_scenes
from .storyboard_video import RenderReport, render_storyboard

__all__ = [
    "SUPPORTED_SIZES",
    "PresenterLook",
    "PresenterReport",
    "PresenterSpec",
    "RenderReport",
    "RenderSpec",
    "Scene",
    "Voice",
    "load_voice",
    "plan_scenes",
    "presenter_look",
    "render_presenter",
    "render_storyboard",
]
