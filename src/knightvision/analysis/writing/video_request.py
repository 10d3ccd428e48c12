"""The UGC script's beats as a ``generate-video`` body: what the creator says, and nothing else.

The storyboard renderer speaks and captions every sentence of a prompt, so the prompt carries the
beats' dialogue only; directions and captions stay in the beats for a human crew.
"""

from __future__ import annotations

from typing import Any

from knightvision.adapter_names import AdapterName
from knightvision.analysis.writing.deterministic.dialogue import as_sentence
from knightvision.analysis.writing.document import Beat

# The offline model of the same name renders any whole duration the script can have (15-30 s).
MODEL = AdapterName.LOCAL_STORYBOARD.value


def video_request(beats: list[Beat], aspect_ratio: str) -> dict[str, Any]:
    spoken = " ".join(as_sentence(beat.voiceover) for beat in beats if beat.voiceover.strip())
    return {
        "prompt": spoken,
        "model": MODEL,
        "duration": round(beats[-1].end_s),
        "aspect_ratio": aspect_ratio,
    }
