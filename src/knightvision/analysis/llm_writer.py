"""The language-model writer: summary, analysis and UGC script from the same measured inputs.

The model gets the transcript, metrics, breakdown, source, our measured findings and (when it has
vision) a few frames, and must answer with one strict JSON object. Each part is checked on its
own — types, lengths, beat order and timings, and numbers that contradict the metrics — and any
part that fails, or the whole reply when the call fails, falls back to the deterministic text
with the reason in ``engine``. A model failure never fails the analysis job.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knightvision.analysis import deterministic
from knightvision.analysis.deterministic import (
    FIRST_CUT_WITHIN_S,
    LENGTH_RANGE_S,
    LOUDNESS_TARGET_LUFS,
    SHOT_LENGTH_RANGE_S,
    SPEECH_START_WITHIN_S,
    WPM_RANGE,
    Speech,
)
from knightvision.analysis.report import (
    DETERMINISTIC_ENGINE,
    UGC_SCRIPT_MAX_CHARS,
    Beat,
    Report,
    ReportInputs,
)
from knightvision.providers.llm.port import ChatMessage, ChatModel, ImagePart, LLMError

log = logging.getLogger("knightvision.analysis")

MAX_FRAMES = 8
MAX_TRANSCRIPT_CHARS = 6000
MAX_SEGMENTS = 80
MAX_LIST_ITEMS = 40
MAX_BEAT_END_S = 60.0  # the longest video generate-video can render
_SOURCE_FIELDS = ("platform", "title", "carousel")  # not the URL: it says nothing about the ad
_METRICS_NOT_SENT = frozenset(
    {"timings", "engines", "sampled_frame_times_s", "face_times_s"}
)  # noise to a writer

SYSTEM_PROMPT = "\n".join(
    [
        "You analyse short-form video ads for marketers and write UGC scripts from them.",
        "Answer with one JSON object and nothing else, with exactly these keys:",
        '- "summary": string, 2 to 4 sentences: what the ad is (product or offer, in the ad\'s own words), '
        "its length, format and structure.",
        '- "analysis": string, one finding per line covering hook, pacing, speech, captions, faces, audio, '
        'call to action and format fit for the platform. End every line with "(measured)" when it states a fact '
        'from the metrics or transcript, or "(opinion)" when it is your judgement; an opinion names its benchmark.',
        f'- "ugc_script": string of at most {UGC_SCRIPT_MAX_CHARS - 200} characters: plain sentences a text-to-video '
        "model can follow as a prompt, giving each beat's time range, what the creator says and does, "
        "and any on-screen text.",
        '- "ugc_script_beats": array of objects {"beat", "start_s", "end_s", "voiceover", "on_screen", "direction"} '
        'in time order; "beat" is one of hook, problem, solution, proof, cta; the first beat is hook starting at 0 '
        "and the last is cta ending at the script length given in the input; times are numbers in seconds; "
        'the other fields are strings ("" when empty).',
        "Rules: state only numbers that appear in the metrics (round them as given) or in the benchmarks below. "
        "Never invent claims, prices, statistics, reviews or product names: reuse the ad's own lines from the "
        'transcript and on-screen text. If "transcribable" is false, say the speech could not be transcribed and '
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


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SummaryPart(_Strict):
    summary: str = Field(min_length=20, max_length=1500)


class AnalysisPart(_Strict):
    analysis: str = Field(min_length=40, max_length=8000)

    @model_validator(mode="after")
    def _labelled(self) -> AnalysisPart:
        if "(measured)" not in self.analysis and "(opinion)" not in self.analysis:
            raise ValueError("no (measured)/(opinion) labels (D18)")
        return self


class BeatPart(_Strict):
    beat: Literal["hook", "problem", "solution", "proof", "cta"]
    start_s: float = Field(ge=0, le=MAX_BEAT_END_S)
    end_s: float = Field(gt=0, le=MAX_BEAT_END_S)
    voiceover: str = Field(default="", max_length=500)
    on_screen: str = Field(default="", max_length=200)
    direction: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _forward(self) -> BeatPart:
        if self.end_s <= self.start_s:
            raise ValueError(
                f"{self.beat} ends at {self.end_s:g} s, not after its start {self.start_s:g} s"
            )
        return self


class ScriptPart(_Strict):
    ugc_script: str = Field(min_length=40, max_length=UGC_SCRIPT_MAX_CHARS)
    ugc_script_beats: list[BeatPart] = Field(min_length=3, max_length=12)

    @model_validator(mode="after")
    def _sane_timeline(self) -> ScriptPart:
        beats = self.ugc_script_beats
        if beats[0].beat != "hook" or beats[-1].beat != "cta":
            raise ValueError("beats must open with hook and close with cta")
        if beats[0].start_s > 0.5:
            raise ValueError(f"the hook starts at {beats[0].start_s:g} s, not at 0")
        for before, after in pairwise(beats):
            if after.start_s < before.end_s - 0.5:
                raise ValueError(
                    f"{after.beat} at {after.start_s:g} s overlaps {before.beat} ending at {before.end_s:g} s"
                )
        if beats[-1].end_s < 5:
            raise ValueError(f"the script lasts {beats[-1].end_s:g} s, under 5 s")
        return self


def write(inputs: ReportInputs, llm: ChatModel, *, fallback: Report, timeout: float) -> Report:
    """The model's report, part by part, or the deterministic ``fallback`` where it fails."""
    try:
        messages = build_messages(inputs, fallback, vision=llm.vision)
        reply = llm.complete(messages, response_format_json=True, timeout=timeout)
    except LLMError as exc:
        log.warning("llm writer failed, using %s: %s", DETERMINISTIC_ENGINE, exc)
        # The code only: upstream messages can carry operator details (e.g. a masked key).
        return _with_engine(
            fallback, dict.fromkeys(_PARTS, f"{DETERMINISTIC_ENGINE} (llm failed: {exc.code})")
        )
    except (
        Exception
    ):  # an adapter bug must not fail a paid analysis: the deterministic report stands
        log.exception("llm writer crashed, using %s", DETERMINISTIC_ENGINE)
        return _with_engine(
            fallback, dict.fromkeys(_PARTS, f"{DETERMINISTIC_ENGINE} (llm failed: llm_error)")
        )
    try:
        data = parse_reply(reply)
    except ValueError as exc:
        log.warning("llm writer reply unusable, using %s: %s", DETERMINISTIC_ENGINE, exc)
        return _with_engine(fallback, {part: _invalid(str(exc)) for part in _PARTS})

    writer, engine, report = f"llm:{llm.model}", dict(fallback.engine), fallback
    summary, analysis, script = (
        _check_summary(data, inputs),
        _check_analysis(data, inputs),
        _check_script(data),
    )
    if isinstance(summary, SummaryPart):
        report, engine["summary"] = replace(report, summary=summary.summary.strip()), writer
    if isinstance(analysis, AnalysisPart):
        report, engine["analysis"] = replace(report, analysis=analysis.analysis.strip()), writer
    if isinstance(script, ScriptPart):
        beats = [Beat(**beat.model_dump()) for beat in script.ugc_script_beats]
        report = replace(report, ugc_script=script.ugc_script.strip(), ugc_script_beats=beats)
        engine["ugc_script"] = writer
    for part, problem in (("summary", summary), ("analysis", analysis), ("ugc_script", script)):
        if isinstance(problem, str):
            log.warning("llm writer %s rejected: %s", part, problem)
            engine[part] = _invalid(problem)
    return replace(report, engine=engine)


_PARTS = ("summary", "analysis", "ugc_script")


def _invalid(reason: str) -> str:
    return f"{DETERMINISTIC_ENGINE} (llm output invalid: {reason})"


def _with_engine(report: Report, labels: dict[str, str]) -> Report:
    return replace(report, engine={**report.engine, **labels})


# --- the prompt -----------------------------------------------------------------------------


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
    state = deterministic.speech_state(inputs)
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
            point.text for point in draft.analysis_points if point.kind == "measured"
        ],
        "script": {
            "length_s": deterministic.script_duration(inputs),
            "aspect_ratio": deterministic.script_aspect(inputs),
        },
        "frames_attached": [round(float(f["time_s"]), 1) for f in frames],
    }


# --- reading and checking the reply ---------------------------------------------------------


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def parse_reply(reply: str) -> dict[str, Any]:
    """The reply's JSON object; tolerates a code fence or prose around it (servers without JSON mode)."""
    text = _FENCE.sub("", reply.strip())
    try:
        data = json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("reply is not JSON") from None
        try:
            data = json.loads(text[start : end + 1])
        except ValueError:
            raise ValueError("reply is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("reply is not a JSON object")
    return data


def _validation_reason(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _check_summary(data: dict[str, Any], inputs: ReportInputs) -> SummaryPart | str:
    """The valid part, or why it is rejected."""
    try:
        part = SummaryPart.model_validate(data)
    except ValidationError as exc:
        return _validation_reason(exc)
    return _contradiction(part.summary, inputs, duration=True) or part


def _check_analysis(data: dict[str, Any], inputs: ReportInputs) -> AnalysisPart | str:
    try:
        part = AnalysisPart.model_validate(data)
    except ValidationError as exc:
        return _validation_reason(exc)
    return _contradiction(part.analysis, inputs, duration=False) or part


def _check_script(data: dict[str, Any]) -> ScriptPart | str:
    try:
        return ScriptPart.model_validate(data)
    except ValidationError as exc:
        return _validation_reason(exc)


_DURATION_CLAIM = re.compile(
    r"(\d+(?:\.\d+)?)[- ]?(?:s|sec|secs|seconds?)[- ](?:long|ad|video|spot|clip)\b", re.IGNORECASE
)
_WPM_CLAIM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:wpm|words per minute|words/min)", re.IGNORECASE)
_LUFS_CLAIM = re.compile(r"([-−–]?\s?\d+(?:\.\d+)?)\s*LUFS", re.IGNORECASE)
_SHOTS_CLAIM = re.compile(r"\b(\d+)\s+(?:shots|cuts|scene cuts)\b(?!\s+per)", re.IGNORECASE)


def _contradiction(text: str, inputs: ReportInputs, *, duration: bool) -> str | None:
    """A number the text states about the ad that the metrics contradict, or None. Heuristic: it
    catches the common slips (length, speaking rate, loudness, shot count), not every one."""
    m = inputs.metrics
    measured_duration = deterministic.as_number(m, "duration_s")
    if duration and measured_duration is not None:
        for match in _DURATION_CLAIM.finditer(text):
            said = float(match.group(1))
            if abs(said - measured_duration) > max(1.0, 0.1 * measured_duration):
                return f"says the ad is {said:g} s long; measured {measured_duration:g} s"
    spoken = deterministic.speech_state(inputs) is Speech.TRANSCRIBED
    wpm = deterministic.as_number(m, "words_per_minute")
    for match in _WPM_CLAIM.finditer(text):
        said = float(match.group(1))
        if said in WPM_RANGE:
            continue  # the benchmark
        if not spoken or wpm is None:
            return f"states a speaking rate ({said:g} wpm) but no speech rate was measured"
        if abs(said - wpm) > max(5.0, 0.15 * wpm):
            return f"says {said:g} words per minute; measured {wpm:g}"
    lufs = deterministic.as_number(m, "loudness_lufs")
    for match in _LUFS_CLAIM.finditer(text):
        said = -abs(
            float(re.sub(r"[-−–\s]", "", match.group(1)))
        )  # integrated loudness is negative
        if said == LOUDNESS_TARGET_LUFS:
            continue
        if lufs is None:
            return f"states a loudness ({said:g} LUFS) but none was measured"
        if abs(said - lufs) > 1.0:
            return f"says {said:g} LUFS; measured {lufs:g}"
    counts = {
        m.get("shot_count"),
        len(m.get("scene_cuts") or []),
        len(inputs.breakdown.get("scenes") or []),
    }
    counts = {count for count in counts if isinstance(count, int) and count > 0}
    for match in _SHOTS_CLAIM.finditer(text):
        said_count = int(match.group(1))
        if counts and said_count not in counts:
            return f"says {said_count} shots/cuts; measured {sorted(counts)}"
    return None
