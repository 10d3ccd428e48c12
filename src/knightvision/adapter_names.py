"""The names of the video model adapters, as operators write them in ``adapter = "…"`` (D15, D16).

Imports nothing of ours: settings validate the adapter setting against it, and the providers, the
video and the character packages name their adapters with it.
"""

from __future__ import annotations

from enum import StrEnum


class AdapterName(StrEnum):
    EVOLINK = "evolink"
    KIE = "kie"
    OPENAI = "openai"
    KLING = "kling"
    LOCAL_STORYBOARD = "local-storyboard"  # our offline renderer
    DISABLED = "disabled"  # no adapter: the model answers 500 "Video generation not available"
