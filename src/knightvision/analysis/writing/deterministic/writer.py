"""The deterministic writer (``deterministic-v1``): the whole report from our own rules; fast,
offline, and the fallback for the LLM writer."""

from __future__ import annotations

from knightvision.analysis.writing.deterministic.facts import transcription
from knightvision.analysis.writing.deterministic.findings import analysis_points, analysis_text
from knightvision.analysis.writing.deterministic.script import script_beats, ugc_script
from knightvision.analysis.writing.deterministic.summary import summary
from knightvision.analysis.writing.document import Report, ReportInputs

DETERMINISTIC_ENGINE = "deterministic-v1"


def write(inputs: ReportInputs) -> Report:
    """The whole report from our own rules; fast, offline, and the fallback for the LLM path."""
    points = analysis_points(inputs)
    beats = script_beats(inputs)
    return Report(
        summary=summary(inputs),
        transcription=transcription(inputs),
        analysis=analysis_text(points),
        ugc_script=ugc_script(inputs, beats),
        ugc_script_beats=beats,
        analysis_points=points,
        engine=engine_labels(inputs, DETERMINISTIC_ENGINE),
    )


def engine_labels(inputs: ReportInputs, writer: str) -> dict[str, str]:
    labels = {
        "summary": writer,
        "analysis": writer,
        "ugc_script": writer,
        "analysis_points": DETERMINISTIC_ENGINE,
    }
    if isinstance(inputs.transcript.get("engine"), str) and inputs.transcript["engine"]:
        labels["transcription"] = inputs.transcript["engine"]
    return labels


class DeterministicWriter:
    """:func:`write` behind the :class:`~knightvision.analysis.writing.port.Writer` port."""

    engine = DETERMINISTIC_ENGINE

    def write(self, inputs: ReportInputs) -> Report:
        return write(inputs)
