"""Writing the report: the prose half of an ad analysis, from its measured inputs.

Read top-down: ``document`` (what goes in and comes out), ``port`` (the :class:`Writer` that
writes it), then the two writers behind the port, ``deterministic`` and ``llm``.
``analysis.report`` chooses between them and assembles the result.
"""

from knightvision.analysis.writing.document import (
    BEAT_KINDS,
    UGC_SCRIPT_MAX_CHARS,
    AnalysisPoint,
    Beat,
    Report,
    ReportInputs,
)
from knightvision.analysis.writing.port import Writer

__all__ = [
    "BEAT_KINDS",
    "UGC_SCRIPT_MAX_CHARS",
    "AnalysisPoint",
    "Beat",
    "Report",
    "ReportInputs",
    "Writer",
]
