"""Reading and checking the model's reply, part by part: types, lengths, beat order and timings,
and numbers that contradict the metrics. A part that fails is returned as the reason it fails."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knightvision.analysis.writing.deterministic.benchmarks import LOUDNESS_TARGET_LUFS, WPM_RANGE
from knightvision.analysis.writing.deterministic.facts import Speech, as_number, speech_state
from knightvision.analysis.writing.document import BEAT_KINDS, UGC_SCRIPT_MAX_CHARS, ReportInputs
from knightvision.analysis.writing.grounding import LABEL
from knightvision.analysis.writing.llm.prompt import ANALYSIS_LINES

MAX_BEAT_END_S = 60.0  # the longest video generate-video can render


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class SummaryPart(_Strict):
    summary: str = Field(min_length=20, max_length=1500)


class AnalysisPart(_Strict):
    analysis: str = Field(min_length=40, max_length=8000)

    @model_validator(mode="after")
    def _labelled(self) -> AnalysisPart:
        """Every line labelled (D18); only a heading ending in ':' may go without."""
        lines = [line.strip() for line in self.analysis.splitlines() if line.strip()]
        if lines and lines[0].endswith(":"):
            lines = lines[1:]
        unlabelled = [line for line in lines if not LABEL.search(line)]
        if len(unlabelled) == len(lines):
            raise ValueError("no (measured)/(opinion) labels (D18)")
        if unlabelled:  # one label must not carry unlabelled claims through
            raise ValueError(f"a line without a (measured)/(opinion) label: {unlabelled[0][:60]!r}")
        return self


_BEAT_FIELDS = ("beat", "start_s", "end_s", "voiceover", "on_screen", "direction")
# The reply's JSON Schema, strict (every field required, nothing else allowed), for servers that
# enforce one (``KNIGHTVISION_LLM_JSON_MODE=json_schema``). The checks below still run.
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "analysis", "ugc_script", "ugc_script_beats"],
    "properties": {
        "summary": {"type": "string"},
        "analysis": {"type": "string", "description": ANALYSIS_LINES},
        "ugc_script": {"type": "string"},
        "ugc_script_beats": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(_BEAT_FIELDS),
                "properties": {
                    "beat": {"type": "string", "enum": list(BEAT_KINDS)},
                    "start_s": {"type": "number"},
                    "end_s": {"type": "number"},
                    "voiceover": {"type": "string"},
                    "on_screen": {"type": "string"},
                    "direction": {"type": "string"},
                },
            },
        },
    },
}


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
                    f"{after.beat} at {after.start_s:g} s overlaps {before.beat} "
                    f"ending at {before.end_s:g} s"
                )
        if beats[-1].end_s < 5:
            raise ValueError(f"the script lasts {beats[-1].end_s:g} s, under 5 s")
        return self


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def parse_reply(reply: str) -> dict[str, Any]:
    """The reply's JSON object; tolerates a code fence or prose around it (servers without JSON
    mode)."""
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


def check_summary(data: dict[str, Any], inputs: ReportInputs) -> SummaryPart | str:
    """The valid part, or why it is rejected."""
    try:
        part = SummaryPart.model_validate(data)
    except ValidationError as exc:
        return _validation_reason(exc)
    return _contradiction(part.summary, inputs, duration=True) or part


def check_analysis(data: dict[str, Any], inputs: ReportInputs) -> AnalysisPart | str:
    try:
        part = AnalysisPart.model_validate(data)
    except ValidationError as exc:
        return _validation_reason(exc)
    return _contradiction(part.analysis, inputs, duration=False) or part


def check_script(data: dict[str, Any]) -> ScriptPart | str:
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
    measured_duration = as_number(m, "duration_s")
    if duration and measured_duration is not None:
        for match in _DURATION_CLAIM.finditer(text):
            said = float(match.group(1))
            if abs(said - measured_duration) > max(1.0, 0.1 * measured_duration):
                return f"says the ad is {said:g} s long; measured {measured_duration:g} s"
    spoken = speech_state(inputs) is Speech.TRANSCRIBED
    wpm = as_number(m, "words_per_minute")
    for match in _WPM_CLAIM.finditer(text):
        said = float(match.group(1))
        if said in WPM_RANGE:
            continue  # the benchmark
        if not spoken or wpm is None:
            return f"states a speaking rate ({said:g} wpm) but no speech rate was measured"
        if abs(said - wpm) > max(5.0, 0.15 * wpm):
            return f"says {said:g} words per minute; measured {wpm:g}"
    lufs = as_number(m, "loudness_lufs")
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
    measured_counts = (
        m.get("shot_count"),
        len(m.get("scene_cuts") or []),
        len(inputs.breakdown.get("scenes") or []),
    )
    counts = {count for count in measured_counts if isinstance(count, int) and count > 0}
    for match in _SHOTS_CLAIM.finditer(text):
        said_count = int(match.group(1))
        if counts and said_count not in counts:
            return f"says {said_count} shots/cuts; measured {sorted(counts)}"
    return None
