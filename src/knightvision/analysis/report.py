"""The written half of an ad analysis: what goes in, what comes out, and who wrote each part.

The deterministic engine always runs, because it is the fallback and the source of the structured
``analysis_points``; a configured language model may then rewrite the prose parts, and any part it
gets wrong falls back to the deterministic text with the reason in ``engine`` (D18).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from knightvision.providers.llm.port import ChatModel

DETERMINISTIC_ENGINE = "deterministic-v1"
BEAT_KINDS = ("hook", "problem", "solution", "proof", "cta")
UGC_SCRIPT_MAX_CHARS = 2000  # the script must POST as a generate-video prompt as it is
LLM_TIMEOUT_SECONDS = 90.0


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

    def to_dict(self) -> dict[str, Any]:
        point: dict[str, Any] = {
            "kind": self.kind,
            "topic": self.topic,
            "text": self.text,
            "basis": _no_nulls(self.basis),
        }
        if self.benchmark:
            point["benchmark"] = self.benchmark
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

    def to_result(self) -> dict[str, Any]:
        """The API ``result``: the four documented strings (D1) plus our additions; the caller adds
        ``metrics`` and ``breakdown``. Nothing is null (D13)."""
        return {
            "summary": self.summary,
            "transcription": self.transcription,
            "analysis": self.analysis,
            "ugc_script": self.ugc_script,
            "ugc_script_beats": [beat.to_dict() for beat in self.ugc_script_beats],
            "analysis_points": [point.to_dict() for point in self.analysis_points],
            "engine": dict(self.engine),
        }


def write_report(
    inputs: ReportInputs, llm: ChatModel | None, *, timeout: float = LLM_TIMEOUT_SECONDS
) -> Report:
    """Deterministic report, rewritten by ``llm`` when one is configured. Blocking: run it in a
    worker thread. Never raises for a model failure; the fallback is recorded in ``engine``."""
    # Imported here: both engines build this module's types, so a top-level import would be a cycle.
    from knightvision.analysis import deterministic, llm_writer

    draft = deterministic.write(inputs)
    if llm is None:
        return draft
    return llm_writer.write(inputs, llm, fallback=draft, timeout=timeout)


def _no_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _no_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_no_nulls(item) for item in value if item is not None]
    return value
