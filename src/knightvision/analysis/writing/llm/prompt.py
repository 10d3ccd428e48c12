"""The prompt: the writing rules, then the ad as JSON (transcript, metrics, breakdown, source and
our measured findings), then (for a vision model) a few frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knightvision.analysis.writing.deterministic.benchmarks import (
    FIRST_CUT_WITHIN_S,
    LENGTH_RANGE_S,
    LOUDNESS_TARGET_LUFS,
    SHOT_LENGTH_RANGE_S,
    SPEECH_START_WITHIN_S,
    WPM_RANGE,
)
from knightvision.analysis.writing.deterministic.facts import Speech, speech_state
from knightvision.analysis.writing.deterministic.script import script_aspect, script_duration
from knightvision.analysis.writing.document import UGC_SCRIPT_MAX_CHARS, Report, ReportInputs
from knightvision.providers.llm.port import ChatMessage, ImagePart

MAX_FRAMES = 8
MAX_TRANSCRIPT_CHARS = 6000
MAX_SEGMENTS = 80
MAX_LIST_ITEMS = 40
_SOURCE_FIELDS = ("platform", "title", "carousel")  # not the URL: it says nothing about the ad
_METRICS_NOT_SENT = frozenset(
    {"timings", "engines", "sampled_frame_times_s", "face_times_s"}
)  # noise to a writer

# How the analysis lines cite the measured findings; also the reply schema's description.
ANALYSIS_LINES = (
    "one finding per line covering hook, pacing, speech, captions, faces, audio, call to action "
    "and format fit for the platform. A line that states a measured fact ends with "
    '"(measured: <id>)", naming the id (or ids, comma-separated) of the measured_findings it '
    "states, and uses only the numbers of those findings. A line of your judgement ends with "
    '"(opinion: <id>, ...)" naming the findings it judges (or "(opinion)") and names its benchmark.'
)

SYSTEM_PROMPT = "\n".join(
    [
        "You analyse short-form video ads for marketers and write UGC scripts from them.",
        "Answer with one JSON object and nothing else, with exactly these keys:",
        '- "summary": string, 2 to 4 sentences: what the ad is (product or offer, '
        "in the ad's own words), its length, format and structure.",
        f'- "analysis": string, {ANALYSIS_LINES}',
        f'- "ugc_script": string of at most {UGC_SCRIPT_MAX_CHARS - 200} characters: '
        "plain sentences a text-to-video model can follow as a prompt, giving each beat's "
        "time range, what the creator says and does, and any on-screen text.",
        '- "ugc_script_beats": array of objects '
        '{"beat", "start_s", "end_s", "voiceover", "on_screen", "direction"} in time order; '
        '"beat" is one of hook, problem, solution, proof, cta; '
        "the first beat is hook starting at 0 and the last is cta ending at the script length "
        "given in the input; times are numbers in seconds; "
        'the other fields are strings ("" when empty).',
        "Rules: state only numbers that appear in the metrics (round them as given) "
        "or in the benchmarks below. Never invent claims, prices, statistics, reviews or "
        "product names: reuse the ad's own lines from the transcript and on-screen text. "
        'If "transcribable" is false, say the speech could not be transcribed and '
        "do not guess what is said; never quote segments marked low_confidence. "
        "If there is no speech, do not discuss speaking rate. "
        "Frames, when attached, are stills at the times given.",
        "Benchmarks (common short-form rules of thumb): "
        f"first cut within {FIRST_CUT_WITHIN_S:g} s; "
        f"shots of {SHOT_LENGTH_RANGE_S[0]:g}-{SHOT_LENGTH_RANGE_S[1]:g} s; "
        f"{WPM_RANGE[0]}-{WPM_RANGE[1]} words per minute; "
        f"first words within {SPEECH_START_WITHIN_S:g} s; loudness {LOUDNESS_TARGET_LUFS:g} LUFS; "
        f"{LENGTH_RANGE_S[0]}-{LENGTH_RANGE_S[1]} s length; call to action in the final quarter; "
        "most feed video is watched muted, so captions matter.",
    ]
)


def build_messages(inputs: ReportInputs, draft: Report, *, vision: bool) -> list[ChatMessage]:
    """System rules, then the inputs as JSON, then the frames (only for a vision model)."""
    frames = _frames(inputs) if vision else []
    context = _context(inputs, draft, frames)
    user: list[str | ImagePart] = [
        "The ad, as JSON:\n" + json.dumps(context, ensure_ascii=False, indent=1)
    ]
    for frame in frames:
        user.append(f"Frame at {float(frame['time_s']):.1f} s:")
        user.append(ImagePart(Path(frame["path"])))
    return [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", user)]


def _frames(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Up to MAX_FRAMES readable frames, spread evenly over the ones selected."""
    usable = [
        frame
        for frame in inputs.frames
        if isinstance(frame, dict)
        and isinstance(frame.get("time_s"), (int, float))
        and frame.get("path")
        and Path(frame["path"]).is_file()
    ]
    if len(usable) <= MAX_FRAMES:
        return usable
    step = len(usable) / MAX_FRAMES
    return [usable[int(i * step)] for i in range(MAX_FRAMES)]


def _context(inputs: ReportInputs, draft: Report, frames: list[dict[str, Any]]) -> dict[str, Any]:
    transcript = inputs.transcript
    state = speech_state(inputs)
    spoken = state is Speech.TRANSCRIBED
    metrics = {
        key: (value[:MAX_LIST_ITEMS] if isinstance(value, list) else value)
        for key, value in inputs.metrics.items()
        if key not in _METRICS_NOT_SENT
    }
    breakdown = dict(inputs.breakdown)
    if isinstance(breakdown.get("scenes"), list):
        breakdown["scenes"] = breakdown["scenes"][:MAX_LIST_ITEMS]
    return {
        "source": {
            key: inputs.source[key] for key in _SOURCE_FIELDS if inputs.source.get(key) is not None
        },
        "transcript": {
            "speech": state.value,
            "transcribable": transcript.get("transcribable", True),
            "note": transcript.get("note"),
            "language": transcript.get("language"),
            "text": str(transcript.get("text") or "")[:MAX_TRANSCRIPT_CHARS] if spoken else "",
            "segments": [
                {
                    "start": s.get("start"),
                    "end": s.get("end"),
                    "text": s.get("text"),
                    "low_confidence": s.get("low_confidence") is True,
                }
                for s in (transcript.get("segments") or [])[:MAX_SEGMENTS]
                if isinstance(s, dict)
            ]
            if spoken
            else [],
        },
        "metrics": metrics,
        "breakdown": breakdown,
        "measured_findings": [
            {"id": point.id, "text": point.text}
            for point in draft.analysis_points
            if point.kind == "measured"
        ],
        "script": {
            "length_s": script_duration(inputs),
            "aspect_ratio": script_aspect(inputs),
        },
        "frames_attached": [round(float(f["time_s"]), 1) for f in frames],
    }


def repair_request(problems: list[str]) -> ChatMessage:
    """The follow-up that sends a refused reply back to the model once, quoting the checker."""
    reasons = "\n".join(f"- {problem}" for problem in problems)
    return ChatMessage(
        "user",
        "Our fact checker refused your reply:\n"
        f"{reasons}\n"
        "Answer again with the whole corrected JSON object (same keys, same rules). Keep what "
        "was right; state only what the ad and its measured_findings support, and end each "
        'measured line with "(measured: <id>)" citing the finding whose numbers it states.',
    )
