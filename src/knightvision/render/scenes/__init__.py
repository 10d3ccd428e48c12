"""Scene templates by role (:mod:`.templates`) and the transitions between scenes."""

from .templates import SceneLayers, build_layers
from .transitions import apply_transition, transition_frames, transition_kind

__all__ = [
    "SceneLayers",
    "apply_transition",
    "build_layers",
    "transition_frames",
    "transition_kind",
]
