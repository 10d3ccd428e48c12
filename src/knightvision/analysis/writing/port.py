"""The writer port: whatever writes a report's prose from the measured inputs.

Two writers stand behind it: the deterministic writer (always available, and the fallback) and
the LLM writer (which rewrites the prose parts of its fallback's report). ``analysis.report``
chooses and runs them.
"""

from __future__ import annotations

from typing import Protocol

from knightvision.analysis.writing.document import Report, ReportInputs


class Writer(Protocol):
    @property
    def engine(self) -> str:
        """How ``Report.engine`` names the parts this writer wrote, e.g. ``deterministic-v1``."""
        ...

    def write(self, inputs: ReportInputs) -> Report:
        """The whole report. Blocking; never raises for a failure of the writer's own engine
        (a writer that can fail falls back, and says so in ``Report.engine``)."""
        ...
