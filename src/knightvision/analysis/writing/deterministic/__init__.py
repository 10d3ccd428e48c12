"""The deterministic writer (``deterministic-v1``), one module per part it writes.

Never invented (D18): every measured point quotes a number from ``metrics`` or words from the
transcript / on-screen text, and every opinion is a fixed rule judged against a benchmark it
names. A value that was not measured (missing or null) is not mentioned, and the script reuses
only the ad's own lines; where the ad has none, it directs visuals instead of making up claims.

Read top-down: ``writer`` assembles the report from ``summary``, ``findings`` (the analysis
points and text) and ``script`` (the UGC script), which all read the inputs through ``facts``,
judge them against ``benchmarks`` and phrase them with ``wording``.
"""

from knightvision.analysis.writing.deterministic.facts import transcription
from knightvision.analysis.writing.deterministic.writer import (
    DETERMINISTIC_ENGINE,
    DeterministicWriter,
    write,
)

__all__ = ["DETERMINISTIC_ENGINE", "DeterministicWriter", "transcription", "write"]
