"""What the writers read and write: :class:`ReportInputs` in, a :class:`Report` out.

A report's parts are the four documented strings (D1) — summary, transcription, analysis and UGC
script — plus the script's timed beats, the structured analysis points, and ``engine``: which
writer wrote each part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

BEAT_KINDS = ("hook", "problem", "solution", "proof", "cta")
UGC_SCRIPT_MAX_CHARS = 2000  # the script must POST as a generate-video prompt as it is


@dataclass(frozen=True)
class ReportInputs:
    """The analysis pipeline's measured inputs, as JSON-serialisable dicts (the transcript,
    metrics, breakdown, frames and source contracts); missing or null values are never guessed."""

    transcript: dict[str, Any]
    metrics: dict[str, Any]
    breakdown: dict[str, Any] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Beat:
    """One timed beat of the UGC script."""

    beat: str  # one of BEAT_KINDS
    start_s: float
    end_s: float
    voiceover: str
    on_screen: str
    direction: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "beat": self.beat,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "voiceover": self.voiceover,
            "on_screen": self.on_screen,
            "direction": self.direction,
        }


@dataclass(frozen=True)
class AnalysisPoint:
    """One finding: a measured fact, or a rule-based opinion judged against a stated benchmark."""

    kind: Literal["measured", "opinion"]
    topic: str  # format, hook, pacing, speech, captions, faces, audio, call_to_action
    text: str
    basis: dict[str, Any] = field(default_factory=dict)  # the measured values the point rests on
    benchmark: str | None = None  # for opinions: the rule of thumb it is judged against
    # A measured point's id, unique in its report and the same for the same fact in every report
    # (e.g. ``first_cut``): what a language model's "(measured: <id>)" line cites.
    id: str | None = None
    rests_on: tuple[str, ...] = ()  # for opinions: the ids of the measured points it judges

    def to_dict(self) -> dict[str, Any]:
        point: dict[str, Any] = {
            "kind": self.kind,
            "topic": self.topic,
            "text": self.text,
            "basis": _no_nulls(self.basis),
        }
        if self.benchmark:
            point["benchmark"] = self.benchmark
        if self.id:
            point["id"] = self.id
        if self.rests_on:
            point["rests_on"] = list(self.rests_on)
        return point


@dataclass(frozen=True)
class Report:
    summary: str
    transcription: str
    analysis: str
    ugc_script: str
    ugc_script_beats: list[Beat]
    analysis_points: list[AnalysisPoint]
    engine: dict[str, str]  # part -> who wrote it: "deterministic-v1", "llm:<model>", …
    # The beats as a generate-video body (dialogue only); set when the report is assembled.
    ugc_video_request: dict[str, Any] | None = None
    # What was sent to a language model and what it answered, kept with the job for operators;
    # never part of the partner's result.
    llm_exchange: dict[str, Any] | None = None

    def to_result(self) -> dict[str, Any]:
        """The API ``result``: the four documented strings (D1) plus our additions; the caller adds
        ``metrics`` and ``breakdown``. Nothing is null (D13)."""
        result = {
            "summary": self.summary,
            "transcription": self.transcription,
            "analysis": self.analysis,
            "ugc_script": self.ugc_script,
            "ugc_script_beats": [beat.to_dict() for beat in self.ugc_script_beats],
            "analysis_points": [point.to_dict() for point in self.analysis_points],
            "engine": dict(self.engine),
        }
        if self.ugc_video_request is not None:
            result["ugc_video_request"] = dict(self.ugc_video_request)
        return result


def _no_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _no_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_no_nulls(item) for item in value if item is not None]
    return value
