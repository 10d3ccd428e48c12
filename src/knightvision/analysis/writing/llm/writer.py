"""The LLM writer: the summary, analysis and UGC script rewritten by a language model, each part
kept only where it passes its checks; everything else, and the whole report when the call fails,
stays its fallback writer's, with the reason in ``engine``. A model failure never fails the
analysis job."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from knightvision.analysis.writing.document import Beat, Report, ReportInputs
from knightvision.analysis.writing.llm.prompt import build_messages
from knightvision.analysis.writing.llm.reply import (
    REPLY_SCHEMA,
    AnalysisPart,
    ScriptPart,
    SummaryPart,
    check_analysis,
    check_script,
    check_summary,
    parse_reply,
)
from knightvision.analysis.writing.port import Writer
from knightvision.providers.llm.port import ChatMessage, ChatModel, ImagePart, LLMError

log = logging.getLogger("knightvision.analysis")


class LLMWriter:
    """The model's report, part by part, over the report of its ``fallback`` writer (which also
    gives the model its measured findings). Blocking: run it in a worker thread."""

    def __init__(self, llm: ChatModel, *, fallback: Writer, timeout: float) -> None:
        self.llm = llm
        self.fallback = fallback
        self.timeout = timeout

    @property
    def engine(self) -> str:
        return f"llm:{self.llm.model}"

    def write(self, inputs: ReportInputs) -> Report:
        return self.rewrite(inputs, self.fallback.write(inputs))

    def rewrite(self, inputs: ReportInputs, draft: Report) -> Report:
        """``draft`` (the fallback's report) with each part the model wrote well replaced, and the
        exchange with the model kept on it for operators."""
        exchange: dict[str, Any] = {"model": self.llm.model}
        report = self._rewrite(inputs, draft, exchange)
        return replace(report, llm_exchange=exchange)

    def _rewrite(self, inputs: ReportInputs, draft: Report, exchange: dict[str, Any]) -> Report:
        fallback = self.fallback.engine
        try:
            messages = build_messages(inputs, draft, vision=self.llm.vision)
            exchange["messages"] = [_recorded(message) for message in messages]
            reply = self.llm.complete(
                messages, response_format_json=True, timeout=self.timeout, schema=REPLY_SCHEMA
            )
            exchange["reply"] = reply
        except LLMError as exc:
            exchange["error"] = exc.code
            log.warning("llm writer failed, using %s: %s", fallback, exc)
            # The code only: upstream messages can carry operator details (e.g. a masked key).
            return _with_engine(
                draft, dict.fromkeys(_PARTS, f"{fallback} (llm failed: {exc.code})")
            )
        except Exception:  # an adapter bug must not fail a paid analysis: the draft stands
            log.exception("llm writer crashed, using %s", fallback)
            return _with_engine(draft, dict.fromkeys(_PARTS, f"{fallback} (llm failed: llm_error)"))
        try:
            data = parse_reply(reply)
        except ValueError as exc:
            log.warning("llm writer reply unusable, using %s: %s", fallback, exc)
            return _with_engine(draft, {part: _invalid(fallback, str(exc)) for part in _PARTS})

        writer, engine, report = self.engine, dict(draft.engine), draft
        summary, analysis, script = (
            check_summary(data, inputs),
            check_analysis(data, inputs),
            check_script(data),
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
                engine[part] = _invalid(fallback, problem)
        return replace(report, engine=engine)


_PARTS = ("summary", "analysis", "ugc_script")


def _recorded(message: ChatMessage) -> dict[str, Any]:
    """A message as operators read it: its text, and the frames it carried by path."""
    if isinstance(message.content, str):
        return {"role": message.role, "content": message.content}
    parts = [
        {"image": str(part.path)} if isinstance(part, ImagePart) else {"text": part}
        for part in message.content
    ]
    return {"role": message.role, "content": parts}


def _invalid(fallback: str, reason: str) -> str:
    return f"{fallback} (llm output invalid: {reason})"


def _with_engine(report: Report, labels: dict[str, str]) -> Report:
    return replace(report, engine={**report.engine, **labels})
