"""The fact checker between the writers and the report: a language model's text must rest on the
ad's own inputs.

Every number, percentage, price, promo code and web address the model wrote (script and beats
included) must appear in what the model was given: the transcript, the on-screen text, the
source, the measured metrics or the measured findings of the deterministic draft. A quotation
must be words the ad says or shows. A presenter or face to camera cannot be claimed for an ad
with no face measured, nor speech for an ad without it. A "(measured: <id>)" line of the analysis
must cite the id of a measured finding of the draft and state only that finding's numbers. The
beats must cover the script's length without gaps, and each beat's lines must fit its time. The
LLM writer asks the model once to repair a reply that fails; a repair that fails too sends the
whole reply back to the deterministic text, with the reason in ``engine``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any

from knightvision.analysis.writing.deterministic.dialogue import word_budget
from knightvision.analysis.writing.deterministic.facts import (
    Speech,
    ad_lines,
    as_number,
    normalised,
    speech_state,
)
from knightvision.analysis.writing.document import AnalysisPoint, Report, ReportInputs

# A number as written, with its currency, magnitude word or percent sign for the reason text.
_NUMBER = re.compile(
    r"(?<![\w.])[$€£]?[-−]?\d+(?:[.,]\d+)*(?:\s?(?:million|thousand|k|m)\b)?%?", re.I
)
_MAGNITUDE = {"million": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}
_CODE = re.compile(r"\bcode[\s:]+([A-Z0-9]{3,20})\b", re.I)
_WEB = re.compile(r"\b(?:https?://)?(?:www\.)?([a-z0-9-]+\.(?:com|net|org|co|io|shop|store|app)"
                  r"(?:\.[a-z]{2})?)\b", re.I)  # fmt: skip
_QUOTED = re.compile(r"[\"“”]([^\"“”]{12,300})[\"“”]")
_FACE_CLAIM = re.compile(
    r"\b(presenter|talking head|on[- ]camera|(?:speaks|talks|looks) (?:straight )?(?:in)?to "
    r"(?:the )?camera|face to camera|spokes(?:person|woman|man))\b",
    re.I,
)
_SPEECH_CLAIM = re.compile(r"\b(voice-?over (?:says|explains|tells)|narrator|narrates)\b", re.I)
WORDS_OVER_BUDGET = 1.2  # a model's line may run a little long before it is refused
# An analysis line's label: "(measured)" or "(opinion)", optionally citing the ids of measured
# findings ("(measured: first_cut)", "(opinion: speech, captions)").
LABEL = re.compile(r"\((measured|opinion)(?::\s*([\w\s,-]*))?\)$")
MAX_PROBLEMS = 5  # quoted back to the model for its repair


def ungrounded(report: Report, inputs: ReportInputs, draft: Report) -> str | None:
    """Why the parts a language model wrote in ``report`` are not grounded, or None."""
    return next(_problems(report, inputs, draft), None)


def grounding_problems(report: Report, inputs: ReportInputs, draft: Report) -> list[str]:
    """Every reason (up to MAX_PROBLEMS) the model's parts of ``report`` are not grounded."""
    problems: list[str] = []
    for problem in _problems(report, inputs, draft):
        if problem not in problems:
            problems.append(problem)
        if len(problems) == MAX_PROBLEMS:
            break
    return problems


def _problems(report: Report, inputs: ReportInputs, draft: Report) -> Iterator[str]:
    parts = {
        part: text
        for part, text in (
            ("summary", report.summary),
            ("analysis", report.analysis),
            ("ugc_script", _script_text(report)),
        )
        if report.engine.get(part, "").startswith("llm:")
    }
    if not parts:
        return
    evidence = _evidence(inputs, draft)
    numbers = _numbers_in(evidence) | _beat_times(report)
    for part, text in parts.items():
        for number in _numbers_with_text(text):
            if number[0] not in numbers:
                yield f"{part}: {number[1]!r} is not in the ad or its measurements"
        lowered = evidence.lower()
        for code in _CODE.findall(text):
            if code.lower() not in lowered:
                yield f"{part}: promo code {code!r} is not in the ad"
        for site in _WEB.findall(text):
            if site.lower() not in lowered:
                yield f"{part}: web address {site!r} is not in the ad"
        for quoted in _QUOTED.findall(text):
            if part != "ugc_script" and not _said_or_shown(quoted, inputs):
                yield f"{part}: the quote {quoted!r} is not a line of the ad"
        if part != "ugc_script" and (problem := _contradicts_measurements(text, inputs)):
            yield f"{part}: {problem}"
    if "analysis" in parts:
        yield from (
            f"analysis: {problem}" for problem in _citation_problems(parts["analysis"], draft)
        )
    if "ugc_script" in parts and (problem := _beats_problem(report)):
        yield problem


def _citation_problems(analysis: str, draft: Report) -> Iterator[str]:
    """Each measured line cites the findings it states and states only their numbers; an opinion
    cites only findings that exist."""
    findings = {point.id: point for point in draft.analysis_points if point.id}
    for line in (line.strip() for line in analysis.splitlines()):
        label = LABEL.search(line)
        if label is None:
            continue
        kind, shown = label.group(1), _short(line)
        cited = [i.strip() for i in (label.group(2) or "").split(",") if i.strip()]
        if unknown := [i for i in cited if i not in findings]:
            yield f"{shown} cites {unknown[0]!r}, which is not a measured finding's id"
            continue
        if kind == "opinion":
            continue
        if not cited:
            yield f"the measured line {shown} cites no finding id"
            continue
        cited_numbers = _numbers_in(" ".join(_finding_text(findings[i]) for i in cited))
        for value, written in _numbers_with_text(line[: label.start()]):
            if value not in cited_numbers:
                yield f"{written!r} in {shown} is not in the finding {', '.join(cited)}"


def _short(line: str) -> str:
    return repr(line if len(line) <= 70 else line[:67] + "...")


def _finding_text(point: AnalysisPoint) -> str:
    return " ".join([point.text, *(str(value) for value in _flat(point.basis))])


def _evidence(inputs: ReportInputs, draft: Report) -> str:
    lines = [line.text for line in ad_lines(inputs)]
    source = [str(value) for value in inputs.source.values() if value]
    measured = [p.text for p in draft.analysis_points if p.kind == "measured"]
    benchmarks = [p.benchmark or "" for p in draft.analysis_points] + [draft.summary]
    metrics = [str(value) for value in _flat(inputs.metrics)]
    return "\n".join([*lines, *source, *measured, *benchmarks, *metrics])


def _flat(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flat(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flat(item)
    elif value is not None:
        yield value


def _value(token: str) -> float | None:
    token = token.replace("−", "-").strip().strip("$€£%")
    magnitude = 1.0
    if match := re.search(r"\s?(million|thousand|k|m)$", token, re.I):
        magnitude = _MAGNITUDE[match.group(1).lower()]
        token = token[: match.start()]
    digits = token.replace(",", "") if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+", token) else token
    try:
        return round(float(digits.replace(",", ".")) * magnitude, 3)
    except ValueError:
        return None


def _numbers_with_text(text: str) -> list[tuple[float, str]]:
    found = []
    for match in _NUMBER.finditer(text):
        value = _value(match.group(0))
        if value is not None:
            found.append((abs(value), match.group(0)))
    return found


def _numbers_in(text: str) -> set[float]:
    numbers = {value for value, _ in _numbers_with_text(text)}
    # Rounded forms of measured values ("2.04 s" may be written "2 s" or "2.0 s").
    return numbers | {round(value, 1) for value in numbers} | {float(round(v)) for v in numbers}


def _beat_times(report: Report) -> set[float]:
    times = {float(t) for beat in report.ugc_script_beats for t in (beat.start_s, beat.end_s)}
    return times | {float(round(t)) for t in times}


def _said_or_shown(quoted: str, inputs: ReportInputs) -> bool:
    wanted = normalised(quoted)
    return any(wanted and wanted in normalised(line.text) for line in ad_lines(inputs)) or any(
        wanted in normalised(str(value)) for value in inputs.source.values() if value
    )


def _contradicts_measurements(text: str, inputs: ReportInputs) -> str | None:
    face_share = as_number(inputs.metrics, "face_frame_share")
    if (face_share is None or face_share == 0) and (claim := _FACE_CLAIM.search(text)):
        return f"claims {claim.group(0)!r} but no face was measured"
    if speech_state(inputs) is not Speech.TRANSCRIBED and (claim := _SPEECH_CLAIM.search(text)):
        return f"claims {claim.group(0)!r} but no speech was transcribed"
    return None


def _script_text(report: Report) -> str:
    beats = " ".join(
        f"{beat.voiceover} {beat.on_screen} {beat.direction}" for beat in report.ugc_script_beats
    )
    return f"{report.ugc_script}\n{beats}"


def _beats_problem(report: Report) -> str | None:
    beats = report.ugc_script_beats
    if not beats or beats[0].start_s != 0:
        return "ugc_script: the beats do not start at 0 s"
    for before, after in pairwise(beats):
        if after.start_s != before.end_s:
            return (
                f"ugc_script: a gap or overlap between {before.end_s:g} s and {after.start_s:g} s"
            )
    for beat in beats:
        budget = word_budget(beat.end_s - beat.start_s) * WORDS_OVER_BUDGET
        if len(beat.voiceover.split()) > budget:
            return (
                f"ugc_script: the {beat.beat} line does not fit its {beat.end_s - beat.start_s:g} s"
            )
    said = re.search(r"\b(\d+)[- ]?(?:seconds?|secs?)\b", report.ugc_script)
    if said and abs(float(said.group(1)) - beats[-1].end_s) > 1:
        return f"ugc_script: says {said.group(1)} s but the beats run to {beats[-1].end_s:g} s"
    return None
