"""The written half of an ad analysis: which writer writes it, and the report it hands back.

The deterministic writer always runs, once, because it is the fallback and the source of the
structured ``analysis_points``; a configured language model may then rewrite the prose parts. A part
it gets wrong falls back to the deterministic text, and a reply the fact checker refuses (after one
repair round) falls back whole, with the reason in ``engine`` (D18).
"""

from __future__ import annotations

from dataclasses import replace

from knightvision.analysis.writing.deterministic import DeterministicWriter
from knightvision.analysis.writing.deterministic.script import script_aspect
from knightvision.analysis.writing.document import Report, ReportInputs
from knightvision.analysis.writing.llm import LLMWriter
from knightvision.analysis.writing.port import Writer
from knightvision.analysis.writing.video_request import video_request
from knightvision.providers.llm.port import ChatModel

__all__ = ["LLM_TIMEOUT_SECONDS", "Report", "ReportInputs", "choose_writer", "write_report"]

LLM_TIMEOUT_SECONDS = 90.0


def write_report(
    inputs: ReportInputs, llm: ChatModel | None, *, timeout: float = LLM_TIMEOUT_SECONDS
) -> Report:
    """Deterministic report, rewritten by ``llm`` when one is configured. Blocking: run it in a
    worker thread. Never raises for a model failure; the fallback is recorded in ``engine``.
    ``timeout`` bounds the whole exchange with the model, its repair round included."""
    deterministic = DeterministicWriter()
    report = draft = deterministic.write(inputs)  # written once: the fallback and the draft
    if llm is not None:
        report = LLMWriter(llm, fallback=deterministic, timeout=timeout).rewrite(inputs, draft)
    request = video_request(report.ugc_script_beats, script_aspect(inputs))
    return replace(report, ugc_video_request=request)


def choose_writer(
    llm: ChatModel | None,
    *,
    timeout: float = LLM_TIMEOUT_SECONDS,
    deterministic: DeterministicWriter | None = None,
) -> Writer:
    """The deterministic writer, or the LLM writer over it when a model is configured."""
    deterministic = deterministic or DeterministicWriter()
    if llm is None:
        return deterministic
    return LLMWriter(llm, fallback=deterministic, timeout=timeout)
