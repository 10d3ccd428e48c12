"""The UGC script: timed beats (hook, problem, solution, proof, CTA) built from the ad's own lines,
and the plain-prose prompt for generate-video made of them."""

from __future__ import annotations

import math
import re

from knightvision.analysis.writing.deterministic.benchmarks import HOOK_WINDOW_S, LENGTH_RANGE_S
from knightvision.analysis.writing.deterministic.dialogue import (
    WORDS_PER_SECOND,
    connecting_line,
    fit,
)
from knightvision.analysis.writing.deterministic.directions import direction, shot_style
from knightvision.analysis.writing.deterministic.facts import (
    OFFER,
    Line,
    Speech,
    ad_lines,
    as_number,
    cta_channels,
    language_name,
    measured_cta,
    normalised,
    product_name,
    sold_categories,
    speech_state,
)
from knightvision.analysis.writing.deterministic.wording import quote
from knightvision.analysis.writing.document import (
    BEAT_KINDS,
    UGC_SCRIPT_MAX_CHARS,
    Beat,
    ReportInputs,
)

# Role cues in the five languages the offer and the call to action are read in (en, es, pt, fr,
# de); a question is a problem in any language.
_PROBLEM = re.compile(
    r"\b(tired|sick of|struggl\w*|hate|problem|annoy\w*|frustrat\w*|can'?t|cannot|never|stop|"
    r"worst|pain|hard|wast\w*|again|why|ugh|"
    r"cansad[oa]s?|hart[oa]s?|problemas?|odias?|nunca|otra vez|por qu[eé]|frustra\w*|"
    r"de novo|porqu[eê]|"
    r"marre|probl[eè]mes?|jamais|encore|pourquoi|fatigu[eé]e?s?|"
    r"m[üu]de|genervt|nervt|probleme?|nie|schon wieder|warum)\b|[?？]$",
    re.IGNORECASE,
)
_PROOF = re.compile(
    r"\d|\b(reviews?|customers?|rated|stars?|proven|results?|sold|loved|award\w*|guarantee\w*|"
    r"tested|clinically|trusted|people|everyone|actually works|"
    r"rese[ñn]as?|clientes?|estrellas|probad[oa]|resultados?|vendid[oa]s?|garant[ií]a|"
    r"avalia[çc][õo]es|estrelas|comprovad[oa]|"
    r"avis|clients?|[ée]toiles|prouv[ée]e?|r[ée]sultats?|vendus?|garantie|"
    r"bewertungen|kunden|sterne|bewiesen|ergebnisse?|verkauft|garantie)\b",
    re.IGNORECASE,
)
_SOLUTION = re.compile(
    r"\b(introducing|meet|that'?s why|so i|found|discover\w*|switch\w*|tried|try|started using|"
    r"made (?:with|for)|designed|finally|works?|helps?|now i|it'?s called|uses?|using|"
    r"presentamos|conoce|descubr\w*|por eso|por fin|funciona|ayuda|"
    r"conhe[çc]a|apresentamos|finalmente|"
    r"d[ée]couvr\w*|voici|enfin|c'est pourquoi|fonctionne|aide|"
    r"entdeck\w*|endlich|deshalb|hilft|funktioniert)\b",
    re.IGNORECASE,
)


def script_duration(inputs: ReportInputs) -> int:
    """Whole seconds (generate-video takes integers): the ad's length, held within 15–30 s."""
    duration = as_number(inputs.metrics, "duration_s") or float(LENGTH_RANGE_S[0])
    return int(min(LENGTH_RANGE_S[1], max(LENGTH_RANGE_S[0], round(duration))))


MIN_BEAT_S = 2.0  # the shortest middle beat a creator can say a line in
MAX_CTA_S = 6.0  # a call to action longer than this is cut to its first clauses


def _beat_windows(total: int, needs: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Hook 0–3 s and the CTA the last 3–4 s (up to 6 s when its line needs it); the middle goes
    to problem, solution and proof by the time their lines need (at least ``MIN_BEAT_S`` each),
    on half seconds."""
    cta_seconds = min(MAX_CTA_S, max(4.0 if total >= 20 else 3.0, math.ceil(needs["cta"] * 2) / 2))
    hook_end, cta_start = 3.0, total - cta_seconds
    middle = ("problem", "solution", "proof")
    # Each middle beat gets its minimum, then the time its lines need beyond it; what is left
    # splits 30 / 40 / 30.
    spare = cta_start - hook_end - MIN_BEAT_S * len(middle)
    extra = {kind: max(0.0, needs[kind] - MIN_BEAT_S) for kind in middle}
    scale = min(1.0, spare / sum(extra.values())) if sum(extra.values()) else 0.0
    left = spare - scale * sum(extra.values())
    length = {
        kind: MIN_BEAT_S + extra[kind] * scale + left * split
        for kind, split in zip(middle, (0.3, 0.4, 0.3), strict=True)
    }
    problem_end = hook_end + round(length["problem"] * 2) / 2
    solution_end = problem_end + round(length["solution"] * 2) / 2
    return {
        "hook": (0.0, hook_end),
        "problem": (hook_end, problem_end),
        "solution": (problem_end, solution_end),
        "proof": (solution_end, cta_start),
        "cta": (cta_start, float(total)),
    }


def _seconds_needed(lines: list[Line]) -> float:
    spoken = [line for line in lines if line.spoken] or lines
    return sum(len(line.text.split()) for line in spoken) / WORDS_PER_SECOND


def _assign_lines(inputs: ReportInputs) -> dict[str, list[Line]]:
    """The ad's own lines for each beat, keeping the ad's order: its opening lines are the hook, its
    offer goes with its CTA, and the middle runs problem → solution → proof, switching at the
    first line with a solution cue and then at the first with a proof cue (numbers, reviews, …)."""
    cta = measured_cta(inputs)
    cta_norm = normalised(str(cta["text"])) if cta else ""
    lines = [
        line
        for line in ad_lines(inputs)
        if not (cta_norm and _overlaps(normalised(line.text), cta_norm))
    ]
    hook_end = as_number(inputs.breakdown.get("hook") or {}, "end_s") or HOOK_WINDOW_S
    opening = [line for line in lines if line.time_s < hook_end]
    first = ([line for line in opening if line.spoken] or opening or lines)[:1]
    caption = [line for line in opening if not line.spoken and line not in first][:1]
    beats: dict[str, list[Line]] = {"hook": first + caption}
    rest = [line for line in lines if line not in beats["hook"]]
    offer = next((line for line in rest if OFFER.search(line.text)), None)
    beats["problem"], beats["solution"], beats["proof"] = [], [], []
    product = product_name(inputs)
    # a line presents the product when it names it, or the kind of thing the ad sells ("this mug")
    named = [name.lower() for name in (product, *sold_categories(inputs)) if name]
    state = "problem"
    for line in rest:
        if line is offer:
            continue
        presents = any(name in line.text.lower() for name in named)
        if state == "problem" and (
            _SOLUTION.search(line.text) or (presents and not _PROBLEM.search(line.text))
        ):
            state = "solution"
        elif state != "proof" and _PROOF.search(line.text) and not _PROBLEM.search(line.text):
            state = "proof"
        beats[state].append(line)
    if (
        not beats["solution"] and len(beats["problem"]) > 1
    ):  # no cue at all: problem first, then the rest
        beats["problem"], beats["solution"] = beats["problem"][:1], beats["problem"][1:]
    beats["cta"] = [line for line in (offer,) if line is not None]
    if cta is not None:
        text = " ".join(str(cta["text"]).split())
        beats["cta"].append(
            Line(as_number(cta, "time_s") or 0.0, text, spoken=cta_channels(cta)[0])
        )
    return beats


def _overlaps(line: str, cta: str) -> bool:
    """Whether a line is (part of) the CTA's text or contains it: the CTA beat says it once."""
    return bool(line) and (f" {line} " in f" {cta} " or f" {cta} " in f" {line} ")


def script_beats(inputs: ReportInputs) -> list[Beat]:
    assigned = _assign_lines(inputs)
    needs = {kind: _seconds_needed(assigned.get(kind, [])) for kind in BEAT_KINDS}
    windows = _beat_windows(script_duration(inputs), needs)
    style = shot_style(inputs)
    has_cta = measured_cta(inputs) is not None
    product = product_name(inputs)
    beats = []
    for kind, (start, end) in windows.items():
        lines = assigned.get(kind, [])
        # What the creator says: the ad's speech, or its on-screen text when it has no speech here,
        # or a plain connecting line that claims nothing.
        voiced = [line for line in lines if line.spoken] or lines
        voiceover = fit(voiced, end - start, keep_last=kind == "cta")
        if not voiceover:
            voiceover = connecting_line(kind, product, language_name(inputs))
        shown = [line.text for line in lines if not line.spoken]
        if shown:
            on_screen = shown[-1] if kind == "cta" else shown[0]
        else:  # the hook and the CTA always get a caption: the spoken line itself
            on_screen = voiced[-1].text if voiced and kind in ("hook", "cta") else ""
        how = direction(kind, style, has_lines=bool(lines), has_cta=has_cta)
        beats.append(Beat(kind, start, end, _clip(voiceover, 300), _clip(on_screen, 60), how))
    return beats


def _clip(text: str, limit: int) -> str:
    return quote(text, limit)[1:-1] if text else ""


def ugc_script(inputs: ReportInputs, beats: list[Beat]) -> str:
    """A plain-prose prompt for generate-video, at most 2000 characters: quotes shrink to fit."""
    for limit in (300, 160, 100, 60):
        text = _script_text(inputs, beats, limit)
        if len(text) <= UGC_SCRIPT_MAX_CHARS:
            return text
    return text[: UGC_SCRIPT_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _script_text(inputs: ReportInputs, beats: list[Beat], limit: int) -> str:
    total = beats[-1].end_s
    aspect = script_aspect(inputs)
    head = (
        f"UGC-style {'vertical ' if aspect == '9:16' else ''}{aspect} video, {total:g} seconds: "
        "one creator filming themselves on a phone at home, handheld, natural light, "
        "burned-in captions."
    )
    language = language_name(inputs)
    if (
        language
        and language.lower() not in ("en", "english")
        and speech_state(inputs) is Speech.TRANSCRIBED
    ):
        head += f" The creator speaks the ad's language ({language})."
    parts = [head]
    for beat in beats:
        sentence = f"{beat.start_s:g}–{beat.end_s:g} s, {beat.beat}: {beat.direction}"
        if beat.voiceover:  # the CTA beat is never shortened: it carries the ad's call to action
            sentence += f" They say: {quote(beat.voiceover, 300 if beat.beat == 'cta' else limit)}."
        if beat.on_screen and beat.on_screen != beat.voiceover:
            sentence += f" On-screen text: {quote(beat.on_screen, min(limit, 60))}."
        parts.append(sentence)
    return "\n".join(parts)


def script_aspect(inputs: ReportInputs) -> str:
    """The generate-video ratio (9:16, 1:1 or 16:9) nearest the ad's own."""
    width, height = as_number(inputs.metrics, "width"), as_number(inputs.metrics, "height")
    if not width or not height:
        return "9:16"
    ratio = math.log(width / height)
    return min(
        ("9:16", 9 / 16),
        ("1:1", 1.0),
        ("16:9", 16 / 9),
        key=lambda option: abs(math.log(option[1]) - ratio),
    )[0]
