"""The LLM writer: the summary, analysis and UGC script rewritten by a language model, each part
kept only where it passes its checks and the whole reply only where the fact checker finds it
grounded. A reply the checker refuses gets one repair round: the model is shown the checker's
reasons and answers again; if that answer is refused too (or the repair call fails), the whole
report stays its fallback writer's. ``engine`` says which path was taken and why. A model failure
never fails the analysis job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from knightvision.analysis.writing.document import Beat, Report, ReportInputs
from knightvision.analysis.writing.grounding import grounding_problems
from knightvision.analysis.writing.llm.prompt import build_messages, repair_request
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
    gives the model its measured findings). ``timeout`` bounds the whole exchange, the repair
    round included. Blocking: run it in a worker thread."""

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
        exchange with the model (the repair round included) kept on it for operators."""
        exchange: dict[str, Any] = {"model": self.llm.model}
        deadline = time.monotonic() + self.timeout
        report = self._rewrite(inputs, draft, exchange, deadline)
        return replace(report, llm_exchange=exchange)

    def _rewrite(
        self, inputs: ReportInputs, draft: Report, exchange: dict[str, Any], deadline: float
    ) -> Report:
        fallback = self.fallback.engine
        try:
            messages = build_messages(inputs, draft, vision=self.llm.vision)
            exchange["messages"] = [_recorded(message) for message in messages]
            reply = self._complete(messages, deadline)
            exchange["reply"] = reply
        except LLMError as exc:
            exchange["error"] = exc.code
            # The code only: upstream messages can carry operator details (e.g. a masked key).
            return _with_engine(
                draft, dict.fromkeys(_PARTS, f"{fallback} (llm failed: {exc.code})")
            )
        except Exception:  # a bug building the request must not fail a paid analysis either
            log.exception("llm writer crashed, using %s", fallback)
            exchange["error"] = "llm_error"
            return _with_engine(draft, dict.fromkeys(_PARTS, f"{fallback} (llm failed: llm_error)"))
        report = self._read(reply, inputs, draft)
        problems = grounding_problems(report, inputs, draft)
        if not problems:
            return report
        reason = problems[0]
        log.warning("llm writer output ungrounded, asking for a repair: %s", "; ".join(problems))
        follow_up = repair_request(problems)
        repair: dict[str, Any] = {"reasons": problems, "messages": [_recorded(follow_up)]}
        exchange["repair"] = repair
        try:
            repaired_reply = self._complete(
                [*messages, ChatMessage("assistant", reply), follow_up], deadline
            )
            repair["reply"] = repaired_reply
        except LLMError as exc:
            repair["error"] = exc.code
            label = f"{fallback} (llm output ungrounded: {reason}; repair failed: {exc.code})"
            return _with_engine(draft, dict.fromkeys(_PARTS, label))
        repaired = self._read(repaired_reply, inputs, draft)
        if still := grounding_problems(repaired, inputs, draft):
            log.warning("llm writer output still ungrounded after repair: %s", "; ".join(still))
            label = f"{fallback} (llm output ungrounded after repair: {still[0]})"
            return _with_engine(draft, dict.fromkeys(_PARTS, label))
        labels = {
            part: f"{label} (repaired: {reason})"
            for part, label in repaired.engine.items()
            if part in _PARTS and label == self.engine
        }
        return _with_engine(repaired, labels)

    def _complete(self, messages: list[ChatMessage], deadline: float) -> str:
        """The model's reply within what is left of the writer's time. Raises LLMError only."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMError("llm_timeout", f"no time left of {self.timeout:g} s", retryable=True)
        try:
            return self.llm.complete(
                messages, response_format_json=True, timeout=remaining, schema=REPLY_SCHEMA
            )
        except LLMError as exc:
            log.warning("llm writer failed, using %s: %s", self.fallback.engine, exc)
            raise
        except Exception:  # an adapter bug must not fail a paid analysis: the draft stands
            log.exception("llm writer crashed, using %s", self.fallback.engine)
            raise LLMError("llm_error", "the model adapter crashed") from None

    def _read(self, reply: str, inputs: ReportInputs, draft: Report) -> Report:
        """``draft`` with each part of ``reply`` that passes its checks; a rejected part keeps the
        draft's text, with the reason in ``engine``."""
        fallback = self.fallback.engine
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
