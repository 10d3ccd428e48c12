"""The D18 ``breakdown``: the ad's hook, scenes and call to action, with timestamps.

Built only from measured facts (``metrics`` from :func:`knightvision.analysis.metrics.measure`
and the transcript); nothing here is a model's opinion. Shape::

    {
      "hook": {"start_s": 0.0, "end_s": 3.0,
               "seen": {"on_screen_text": [str], "face": bool | None},
               "said": str, "speech_heard": bool,
               "shown": {"shots": [{"index", "start_s", "end_s", "keyframe"?}], "cuts_s": [float]}},
      "scenes": [{"index", "start_s", "end_s", "duration_s", "on_screen_text": [str],
                  "speech": str, "speech_heard": bool, "face": bool | None, "keyframe"?: path}],
      "call_to_action": metrics["call_to_action"],   # {text, phrase, time_s, source, …} or None
    }

``face`` is None where no frame was sampled in that window. ``said``/``speech`` are the
transcript's sentences (built from its words) whose midpoint falls in the window (for the hook:
whose start does; empty when the speech is not transcribable;
``speech_heard`` still says whether speech was heard there). ``keyframe`` (the frames stage's
mid-shot thumbnail) appears when a FrameSet is passed.
"""

from __future__ import annotations

from typing import Any

from knightvision.analysis.reconcile import sentences
from knightvision.media.frames import FrameSet
from knightvision.providers.transcription.port import Transcript

__all__ = ["HOOK_SECONDS", "build_breakdown"]

HOOK_SECONDS = 3.0


def build_breakdown(
    metrics: dict[str, Any],
    transcript: Transcript | dict[str, Any],
    frames: FrameSet | dict[str, Any] | None = None,
    *,
    hook_seconds: float = HOOK_SECONDS,
) -> dict[str, Any]:
    transcript = (
        transcript if isinstance(transcript, Transcript) else Transcript.from_dict(transcript)
    )
    if isinstance(frames, dict):
        frames = FrameSet.from_dict(frames)
    duration = float(metrics.get("duration_s") or 0.0)
    cuts = [float(c) for c in metrics.get("scene_cuts") or []]
    bounds = [0.0, *[c for c in cuts if 0 < c < duration], duration]
    keyframes = (
        {f["shot"]: f["path"] for f in frames.frames if f["kind"] == "shot"} if frames else {}
    )

    scenes = []
    for index in range(len(bounds) - 1):
        start, end = bounds[index], bounds[index + 1]
        scene: dict[str, Any] = {
            "index": index,
            "start_s": round(start, 3),
            "end_s": round(end, 3),
            "duration_s": round(end - start, 3),
            "on_screen_text": _texts_between(metrics, start, end),
            "speech": _said_between(transcript, start, end),
            "speech_heard": _speech_heard(transcript, start, end),
            "face": _face_between(metrics, start, end),
        }
        if index in keyframes:
            scene["keyframe"] = keyframes[index]
        scenes.append(scene)

    hook_end = min(hook_seconds, duration) if duration else hook_seconds
    hook_shots = [
        {k: scene[k] for k in ("index", "start_s", "end_s", "keyframe") if k in scene}
        for scene in scenes
        if scene["start_s"] < hook_end
    ]
    hook = {
        "start_s": 0.0,
        "end_s": round(hook_end, 3),
        "seen": {
            "on_screen_text": _texts_between(metrics, 0.0, hook_end),
            "face": _face_between(metrics, 0.0, hook_end),
        },
        "said": _said_between(transcript, 0.0, hook_end, starting=True),
        "speech_heard": _speech_heard(transcript, 0.0, hook_end),
        "shown": {"shots": hook_shots, "cuts_s": [round(c, 3) for c in cuts if c < hook_end]},
    }
    return {"hook": hook, "scenes": scenes, "call_to_action": metrics.get("call_to_action")}


def _texts_between(metrics: dict[str, Any], start: float, end: float) -> list[str]:
    """On-screen text spans overlapping [start, end), in order of appearance, each once."""
    texts: list[str] = []
    for span in metrics.get("on_screen_text") or []:
        if (
            float(span["start_s"]) < end
            and float(span["end_s"]) > start
            and span["text"] not in texts
        ):
            texts.append(span["text"])
    return texts


def _said_between(
    transcript: Transcript, start: float, end: float, *, starting: bool = False
) -> str:
    """Whole sentences, each in the window holding its midpoint (``starting``: its start), so a
    scene never opens with the tail of a sentence begun before its cut."""
    if not transcript.transcribable:
        return ""
    if transcript.words:
        placed = []
        for sentence in sentences(transcript.words, transcript.segments):
            first, last = float(sentence["start"]), float(sentence["end"])
            if start <= (first if starting else (first + last) / 2) < end:
                placed.append(sentence["text"])
        return " ".join(placed)
    # no word timings: segments that start in the window
    return " ".join(s["text"] for s in transcript.segments if start <= float(s["start"]) < end)


def _speech_heard(transcript: Transcript, start: float, end: float) -> bool:
    return any(float(s["start"]) < end and float(s["end"]) > start for s in transcript.speech_spans)


def _face_between(metrics: dict[str, Any], start: float, end: float) -> bool | None:
    sampled = [t for t in metrics.get("sampled_frame_times_s") or [] if start <= t < end]
    if not sampled:
        return None
    return any(start <= t < end for t in metrics.get("face_times_s") or [])
