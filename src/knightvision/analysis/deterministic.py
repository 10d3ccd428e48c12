"""``deterministic-v1``: summary, analysis and UGC script from measured metrics and the transcript.

Never invented (D18): every measured point quotes a number from ``metrics`` or words from the
transcript / on-screen text, and every opinion is a fixed rule judged against a benchmark it
names. A value that was not measured (missing or null) is not mentioned, and the script reuses
only the ad's own lines; where the ad has none, it directs visuals instead of making up claims.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from knightvision.analysis.report import (
    DETERMINISTIC_ENGINE,
    UGC_SCRIPT_MAX_CHARS,
    AnalysisPoint,
    Beat,
    Report,
    ReportInputs,
)

# Benchmarks: common short-form ad rules of thumb, stated in every opinion that uses them.
FIRST_CUT_WITHIN_S = 2.0
HOOK_WINDOW_S = 3.0
SHOT_LENGTH_RANGE_S = (1.0, 4.0)
WPM_RANGE = (130, 170)
SPEECH_START_WITHIN_S = 1.0
LOUDNESS_TARGET_LUFS = -14.0
LOUDNESS_TOLERANCE_DB = 2.0
SILENCE_RATIO_HIGH = 0.3
CAPTIONED_SPEECH_LOW = 0.5
LENGTH_RANGE_S = (15, 30)
CTA_LATE_SHARE = 0.75
MIN_SHORT_SIDE_PX = 720

TOPIC_LABELS = {
    "format": "Format",
    "hook": "Hook",
    "pacing": "Pacing",
    "speech": "Speech",
    "captions": "Captions",
    "faces": "Faces",
    "audio": "Audio",
    "call_to_action": "Call to action",
}
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "tiktok": "TikTok"}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PROBLEM = re.compile(
    r"\b(tired|sick of|struggl\w*|hate|problem|annoy\w*|frustrat\w*|can'?t|cannot|never|stop|worst|pain|"
    r"hard|wast\w*|again|why|ugh)\b|\?$",
    re.IGNORECASE,
)
_PROOF = re.compile(
    r"\d|\b(reviews?|customers?|rated|stars?|proven|results?|sold|loved|award\w*|guarantee\w*|"
    r"tested|clinically|trusted|people|everyone|actually works)\b",
    re.IGNORECASE,
)
_SOLUTION = re.compile(
    r"\b(introducing|meet|that'?s why|so i|found|discover\w*|switch\w*|tried|try|started using|made (?:with|for)|"
    r"designed|finally|works?|helps?|now i|it'?s called|uses?|using)\b",
    re.IGNORECASE,
)
_OFFER = re.compile(
    r"\d+\s?%|[$€£]\s?\d|\b(free|off|discount|save|sale|deal|limited|code|shipping|trial|offer|today only)\b",
    re.IGNORECASE,
)


class Speech(Enum):
    NO_AUDIO = "no_audio"
    NONE = "none"  # audio, but no speech found
    UNTRANSCRIBABLE = "untranscribable"  # speech the configured model cannot transcribe (D17)
    TRANSCRIBED = "transcribed"


@dataclass(frozen=True)
class Line:
    """A line the ad itself says or shows, with when it starts."""

    time_s: float
    text: str
    spoken: bool


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


# --- reading the inputs ---------------------------------------------------------------------


def speech_state(inputs: ReportInputs) -> Speech:
    if inputs.metrics.get("has_audio") is False or inputs.transcript.get("has_audio") is False:
        return Speech.NO_AUDIO
    if inputs.transcript.get("transcribable") is False:
        return Speech.UNTRANSCRIBABLE
    if str(inputs.transcript.get("text") or "").strip():
        return Speech.TRANSCRIBED
    return Speech.NONE


def transcription(inputs: ReportInputs) -> str:
    """The documented ``transcription`` string: the text, empty for no speech, and an explicit note
    for speech that could not be transcribed (D17: reported as such, never turned into nonsense)."""
    state = speech_state(inputs)
    if state is Speech.TRANSCRIBED:
        return str(inputs.transcript["text"]).strip()
    if state is Speech.UNTRANSCRIBABLE:
        return f"[{_untranscribable_phrase(inputs)}]"
    return ""


def as_number(mapping: dict[str, Any], key: str) -> float | None:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _s(value: float) -> str:
    return f"{value:.1f} s"


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _quote(text: str, limit: int = 120) -> str:
    """``text`` as a quotation, cut at a word boundary when longer than ``limit``."""
    text = " ".join(str(text).split()).replace('"', "'").rstrip(".")
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return f'"{text}"'


def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def _cta(inputs: ReportInputs) -> dict[str, Any] | None:
    for cta in (inputs.metrics.get("call_to_action"), inputs.breakdown.get("call_to_action")):
        if isinstance(cta, dict) and str(cta.get("text") or "").strip():
            return cta
    return None


def _cta_channels(cta: dict[str, Any]) -> tuple[bool, bool]:
    """(said, shown): from ``sources`` (every channel carrying it) or the chosen ``source``;
    on-screen text is ``overlay`` in the metrics."""
    sources = cta.get("sources") if isinstance(cta.get("sources"), list) else [cta.get("source")]
    names = " ".join(str(source) for source in sources if source)
    return "speech" in names, any(word in names for word in ("overlay", "screen", "text"))


def _on_screen(inputs: ReportInputs) -> list[dict[str, Any]]:
    items = inputs.metrics.get("on_screen_text") or []
    return [
        item for item in items if isinstance(item, dict) and str(item.get("text") or "").strip()
    ]


def _segments(inputs: ReportInputs, *, confident: bool = False) -> list[dict[str, Any]]:
    """Transcribed segments with text; ``confident`` leaves out the ones the transcriber flagged
    ``low_confidence``, which are never quoted."""
    if speech_state(inputs) is not Speech.TRANSCRIBED:
        return []
    segments = [s for s in inputs.transcript.get("segments") or [] if isinstance(s, dict)]
    return [
        s
        for s in segments
        if str(s.get("text") or "").strip() and not (confident and s.get("low_confidence") is True)
    ]


def _language_name(inputs: ReportInputs) -> str | None:
    language = inputs.transcript.get("language")
    return str(language) if language else None


def _untranscribable_phrase(inputs: ReportInputs) -> str:
    language = _language_name(inputs)
    in_language = f" (language: {language})" if language else ""
    note = str(inputs.transcript.get("note") or "").strip().rstrip(".")
    if note:  # the transcriber's own account: how much speech, and why it was withheld
        return f"Speech not transcribed{in_language}: {note}"
    return f"Speech detected{in_language} but the configured transcription model could not transcribe it"


def ad_lines(inputs: ReportInputs) -> list[Line]:
    """What the ad says (transcript sentences) and shows (on-screen text), in time order, deduplicated
    so a caption that repeats the speech counts once (as speech)."""
    lines: list[Line] = []
    for segment in _segments(inputs, confident=True):
        start = as_number(segment, "start") or 0.0
        for sentence in _SENTENCE_END.split(" ".join(str(segment["text"]).split())):
            if sentence.strip():
                lines.append(Line(start, sentence.strip(), spoken=True))
    spoken = " ".join(_norm(line.text) for line in lines)
    for item in _on_screen(inputs):
        text = " ".join(str(item["text"]).split())
        if _norm(text) and _norm(text) not in spoken:
            lines.append(Line(as_number(item, "start_s") or 0.0, text, spoken=False))
    lines.sort(key=lambda line: (line.time_s, not line.spoken))
    unique: list[Line] = []
    seen: set[str] = set()
    for line in lines:
        if _norm(line.text) not in seen:
            seen.add(_norm(line.text))
            unique.append(line)
    return unique


def _covered(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of intervals."""
    return sum(stop - start for start, stop in _merge(intervals))


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Length of time covered by both interval sets."""
    return sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in _merge(a) for y0, y1 in _merge(b))


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, stop in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


# --- summary --------------------------------------------------------------------------------


def _orientation(width: float | None, height: float | None) -> str | None:
    if not width or not height:
        return None
    ratio = width / height
    return "vertical" if ratio < 0.95 else "square" if ratio <= 1.05 else "landscape"


def summary(inputs: ReportInputs) -> str:
    """2–4 sentences: what the ad is, its length and format, its structure and its CTA."""
    sentences = [_what_sentence(inputs)]
    lines = ad_lines(inputs)
    if lines:
        spoken_opening = [line for line in lines if line.spoken and line.time_s < HOOK_WINDOW_S]
        opener = spoken_opening[0] if spoken_opening else lines[0]
        said = "opens by saying" if opener.spoken else "opens with the on-screen text"
        about = f"It {said} {_quote(opener.text, 100)}"
        offer = next(
            (line for line in lines if line is not opener and _OFFER.search(line.text)), None
        )
        if offer is not None:
            about += f" and features the offer {_quote(offer.text, 100)}"
        sentences.append(about + ".")
    sentences.append(_structure_sentence(inputs))
    cta = _cta(inputs)
    if cta is None:
        sentences.append("No call to action was detected.")
    else:
        at = as_number(cta, "time_s")
        when = f" at {_s(at)}" if at is not None else ""
        sentences.append(f"It closes on the call to action {_quote(cta['text'], 80)}{when}.")
    return " ".join(sentences)


def _what_sentence(inputs: ReportInputs) -> str:
    m, source = inputs.metrics, inputs.source
    duration = as_number(m, "duration_s")
    orientation, aspect = (
        _orientation(as_number(m, "width"), as_number(m, "height")),
        m.get("aspect_ratio"),
    )
    words = ["A"]
    if duration is not None:
        words.append(_s(duration))
    if orientation:
        words.append(orientation + (f" ({aspect})" if aspect else ""))
    if platform := PLATFORM_NAMES.get(str(source.get("platform") or "").lower()):
        words.append(platform)
    sentence = " ".join(words) + " video ad"
    if source.get("title"):
        sentence += f" titled {_quote(str(source['title']), 80)}"
    if source.get("carousel"):
        sentence += ", the first video of a carousel ad"
    return sentence + "."


def _structure_sentence(inputs: ReportInputs) -> str:
    m = inputs.metrics
    shots, asl = m.get("shot_count"), as_number(m, "average_shot_length_s")
    parts = []
    if isinstance(shots, int) and shots > 1:
        parts.append(f"{shots} shots" + (f" (average {_s(asl)})" if asl is not None else ""))
    elif shots == 1:
        parts.append("a single continuous shot")
    state, words = speech_state(inputs), m.get("word_count")
    if state is Speech.TRANSCRIBED:
        parts.append(
            f"a voiceover of {words} words" if isinstance(words, int) and words > 0 else "speech"
        )
    else:
        parts.append(
            {
                Speech.UNTRANSCRIBABLE: "speech that could not be transcribed",
                Speech.NONE: "audio without speech",
                Speech.NO_AUDIO: "no audio track",
            }[state]
        )
    texts = len(_on_screen(inputs))
    parts.append(
        f"{texts} on-screen text block{'s' if texts != 1 else ''}" if texts else "no on-screen text"
    )
    return "It has " + ", ".join(parts[:-1]) + f" and {parts[-1]}."


# --- analysis points ------------------------------------------------------------------------


class _Findings(list[AnalysisPoint]):
    """One topic's points, in the order they are found."""

    def __init__(self, topic: str) -> None:
        super().__init__()
        self.topic = topic

    def measured(self, text: str, **basis: Any) -> None:
        self.append(AnalysisPoint("measured", self.topic, text, basis))

    def opinion(self, text: str, benchmark: str, **basis: Any) -> None:
        self.append(AnalysisPoint("opinion", self.topic, text, basis, benchmark))


def analysis_points(inputs: ReportInputs) -> list[AnalysisPoint]:
    points: list[AnalysisPoint] = []
    for section in (_format, _hook, _pacing, _speech, _captions, _faces, _audio, _call_to_action):
        points.extend(section(inputs))
    return points


def analysis_text(points: list[AnalysisPoint]) -> str:
    """The documented ``analysis`` string: one labelled line per point, grouped by topic."""
    lines = [
        "Facts marked (measured) come from the media; "
        "judgements marked (opinion) are rules of thumb for short-form ads."
    ]
    for point in points:
        lines.append(f"{TOPIC_LABELS.get(point.topic, point.topic)}: {point.text} ({point.kind})")
    return "\n".join(lines)


def _format(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("format")
    duration, width, height, fps = (
        as_number(m, key) for key in ("duration_s", "width", "height", "fps")
    )
    aspect, size = m.get("aspect_ratio"), as_number(m, "size_bytes")
    facts = []
    if duration is not None:
        facts.append(_s(duration) + " long")
    if width and height:
        facts.append(f"{int(width)}×{int(height)}" + (f" ({aspect})" if aspect else ""))
    if fps:
        facts.append(f"{fps:g} fps")
    if size:
        facts.append(f"{size / 1_000_000:.1f} MB")
    if facts:
        out.measured(
            ", ".join(facts),
            duration_s=duration,
            width=width,
            height=height,
            aspect_ratio=aspect,
            fps=fps,
        )
    if inputs.source.get("carousel"):
        out.measured("carousel ad: only its first video was analysed")
    if duration is not None:
        low, high = LENGTH_RANGE_S
        bench = f"short-form ads commonly run {low}–{high} s"
        if duration < 6:
            verdict = f"at {_s(duration)} it is very short ({bench}); there is room for a hook and a CTA, little else"
        elif duration > 60:
            verdict = f"at {_s(duration)} it is long for short-form ({bench}); most viewers will leave before the end"
        elif duration > high:
            verdict = (
                f"at {_s(duration)} it runs past the {bench.split('run ')[1]} typical of short-form ads; "
                f"check retention after {high} s"
            )
        else:
            verdict = f"{_s(duration)} is within the usual length for short-form ads"
        out.opinion(verdict, bench, duration_s=duration)
    if width and height:
        _fit_for_platform(
            out, str(inputs.source.get("platform") or "").lower(), width, height, aspect
        )
        if min(width, height) < MIN_SHORT_SIDE_PX:
            short = int(min(width, height))
            bench = f"at least {MIN_SHORT_SIDE_PX} px on the short side"
            out.opinion(
                f"{short} px on the short side is below 720p and may look soft on phones",
                bench,
                width=width,
                height=height,
            )
    return out


def _fit_for_platform(
    out: _Findings, platform: str, width: float, height: float, aspect: Any
) -> None:
    name = PLATFORM_NAMES.get(platform)
    if name is None:
        return
    ratio, label = width / height, str(aspect or f"{int(width)}×{int(height)}")
    if platform == "tiktok":
        bench = "TikTok is a full-screen 9:16 feed"
        if ratio <= 0.6:
            verdict = f"{label} fills TikTok's full-screen vertical feed"
        else:
            verdict = (
                f"{label} does not fill TikTok's 9:16 screen; it will show with bars or be cropped — "
                "a 9:16 cut would use the whole screen"
            )
    else:
        bench = f"{name} uses 9:16 for Reels and Stories and up to 4:5 in the feed"
        if ratio <= 0.6:
            verdict = (
                f"{label} fills Reels and Stories; feed placements crop it towards 4:5, "
                "so keep key text in the central area"
            )
        elif ratio <= 1.05:
            verdict = (
                f"{label} suits the {name} feed; Reels and Stories would show it with empty space — "
                "a 9:16 version would fill them"
            )
        else:
            verdict = (
                f"landscape {label} uses only a strip of a phone screen on {name}; "
                "a 4:5 or 9:16 version would take more of it"
            )
    out.opinion(verdict, bench, aspect_ratio=aspect)


def _hook(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("hook")
    first_cut, duration = as_number(m, "first_cut_s"), as_number(m, "duration_s")
    if first_cut is not None:
        out.measured(f"first cut at {_s(first_cut)}", first_cut_s=first_cut)
        bench = f"short-form ads usually cut within {FIRST_CUT_WITHIN_S:g} s"
        if first_cut > FIRST_CUT_WITHIN_S:
            verdict = f"first cut at {_s(first_cut)}; {bench} — consider an earlier cut"
        else:
            verdict = f"first cut at {_s(first_cut)} keeps the opening moving ({bench})"
        out.opinion(verdict, bench, first_cut_s=first_cut)
    elif m.get("shot_count") == 1 and duration:
        out.measured(
            f"no cut: the ad is one continuous {_s(duration)} shot",
            shot_count=1,
            duration_s=duration,
        )
    hook = inputs.breakdown.get("hook") if isinstance(inputs.breakdown.get("hook"), dict) else {}
    seen = hook.get("seen") if isinstance(hook.get("seen"), dict) else {}
    window = f"first {as_number(hook, 'end_s') or HOOK_WINDOW_S:g} s"
    texts = [str(t).strip() for t in seen.get("on_screen_text") or [] if str(t).strip()][:3]
    said = str(hook.get("said") or "").strip() if speech_state(inputs) is Speech.TRANSCRIBED else ""
    if texts:
        quoted = ", ".join(_quote(text, 60) for text in texts)
        out.measured(f"on-screen text in the {window}: {quoted}", hook_on_screen_text=texts)
    if said:
        out.measured(f"said in the {window}: {_quote(said, 100)}", hook_said=said)
    if isinstance(seen.get("face"), bool):
        visible = "visible" if seen["face"] else "not visible"
        out.measured(f"a face is {visible} in the {window}", hook_face=seen["face"])
    if hook and not texts and not said:
        bench = f"viewers decide whether to keep watching in the first {HOOK_WINDOW_S:g} s"
        out.opinion(
            f"the {window} carry no words (no speech, no on-screen text); a text hook is worth testing",
            bench,
        )
    return out


def _pacing(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("pacing")
    shots, asl, per10 = (
        m.get("shot_count"),
        as_number(m, "average_shot_length_s"),
        as_number(m, "cuts_per_10s"),
    )
    facts = []
    if isinstance(shots, int):
        facts.append(f"{shots} shot{'s' if shots != 1 else ''}")
    if asl is not None:
        facts.append(f"average shot {_s(asl)}")
    if per10 is not None:
        facts.append(f"{per10:.1f} cuts per 10 s")
    if facts:
        out.measured(
            ", ".join(facts), shot_count=shots, average_shot_length_s=asl, cuts_per_10s=per10
        )
    low, high = SHOT_LENGTH_RANGE_S
    bench = f"short-form ads usually hold shots {low:g}–{high:g} s"
    duration = as_number(m, "duration_s")
    if asl is not None and isinstance(shots, int) and shots > 1:
        if asl > high:
            verdict = (
                f"average shot of {_s(asl)} is slow for a scrolling feed ({bench}); "
                "tighter cuts or B-roll would add energy"
            )
        elif asl < low:
            verdict = (
                f"average shot of {_s(asl)} is very fast ({bench}); "
                "make sure each message stays on screen long enough to read"
            )
        else:
            verdict = f"average shot of {_s(asl)} is a typical short-form pace ({bench})"
        out.opinion(verdict, bench, average_shot_length_s=asl)
    elif shots == 1 and duration and duration > 2 * high:
        out.opinion(
            f"one unbroken {_s(duration)} shot relies entirely on its content to hold attention ({bench}); "
            "jump cuts or B-roll are worth testing",
            bench,
            shot_count=1,
            duration_s=duration,
        )
    return out


def _speech(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out, state = inputs.metrics, _Findings("speech"), speech_state(inputs)
    if state is Speech.NO_AUDIO:
        out.measured("no audio track, so no speech", has_audio=False)
        return out
    if state is Speech.NONE:
        out.measured("no speech detected; the message rests on visuals, on-screen text and sound")
        return out
    if state is Speech.UNTRANSCRIBABLE:
        phrase = _untranscribable_phrase(inputs)
        out.measured(
            phrase[0].lower() + phrase[1:] + "; nothing in this analysis is based on what is said",
            language=_language_name(inputs),
            transcribable=False,
        )
        return out
    words, wpm, start = (
        m.get("word_count"),
        as_number(m, "words_per_minute"),
        as_number(m, "speech_start_s"),
    )
    language = _language_name(inputs)
    facts = []
    if isinstance(words, int):
        facts.append(f"{words} words")
    if wpm is not None:
        facts.append(f"{round(wpm)} words per minute")
    if start is not None:
        facts.append(f"speech starts at {_s(start)}")
    if language:
        facts.append(f"language {language}")
    if facts:
        out.measured(
            ", ".join(facts),
            word_count=words,
            words_per_minute=wpm,
            speech_start_s=start,
            language=language,
        )
    if wpm is not None:
        low, high = WPM_RANGE
        bench = f"{low}–{high} words per minute is a typical speaking rate"
        if wpm > high:
            verdict = f"{round(wpm)} wpm is fast ({bench}); dense lines are hard to follow without captions"
        elif wpm < low:
            verdict = (
                f"{round(wpm)} wpm is unhurried ({bench}); trimming pauses would tighten the ad"
            )
        else:
            verdict = f"{round(wpm)} wpm is a comfortable pace ({bench})"
        out.opinion(verdict, bench, words_per_minute=wpm)
    if start is not None and start > SPEECH_START_WITHIN_S:
        bench = f"hooks usually speak within the first {SPEECH_START_WITHIN_S:g} s"
        out.opinion(
            f"the first words come at {_s(start)}; {bench} — consider starting the voice sooner",
            bench,
            speech_start_s=start,
        )
    return out


def _captions(inputs: ReportInputs) -> list[AnalysisPoint]:
    out, items, state = _Findings("captions"), _on_screen(inputs), speech_state(inputs)
    muted = "most feed video is watched with the sound off"
    if not items:
        out.measured("no on-screen text detected")
        if state is Speech.TRANSCRIBED:
            out.opinion(
                f"the speech has no captions; {muted}, so burned-in captions usually help", muted
            )
        elif state in (Speech.NONE, Speech.NO_AUDIO):
            out.opinion(
                "the ad has no words at all (no speech, no on-screen text); the offer depends on visuals alone",
                "an ad needs words somewhere to say what it offers",
            )
        return out
    starts = [as_number(item, "start_s") or 0.0 for item in items]
    intervals = [
        (start, as_number(item, "end_s") or start)
        for start, item in zip(starts, items, strict=True)
    ]
    first = min(start for start, _ in intervals)
    text = (
        f"{len(items)} on-screen text block{'s' if len(items) != 1 else ''}, first at {_s(first)}"
    )
    basis: dict[str, Any] = {"on_screen_text_blocks": len(items), "first_text_s": first}
    if duration := as_number(inputs.metrics, "duration_s"):
        share = min(1.0, _covered(intervals) / duration)
        text += f", on screen for {_pct(share)} of the runtime"
        basis["text_time_share"] = round(share, 3)
    out.measured(text, **basis)
    spoken = [(as_number(s, "start") or 0.0, as_number(s, "end") or 0.0) for s in _segments(inputs)]
    if (speech_time := _covered(spoken)) > 0:
        captioned = round(min(1.0, _overlap(spoken, intervals) / speech_time), 3)
        out.measured(
            f"on-screen text runs during {_pct(captioned)} of the speaking time",
            captioned_speech_share=captioned,
        )
        if captioned < CAPTIONED_SPEECH_LOW:
            out.opinion(
                f"much of the speech has no text on screen; {muted}, so fuller captions usually help",
                muted,
                captioned_speech_share=captioned,
            )
    return out


def _faces(inputs: ReportInputs) -> list[AnalysisPoint]:
    out = _Findings("faces")
    share, first = (
        as_number(inputs.metrics, "face_frame_share"),
        as_number(inputs.metrics, "first_face_s"),
    )
    if share is None:
        return out
    bench = "UGC-style ads usually put a person on camera in the first 3 s"
    if share == 0:
        out.measured("no face detected in the sampled frames", face_frame_share=0.0)
        out.opinion(
            f"no one appears on camera; {bench}, which is worth testing",
            bench,
            face_frame_share=0.0,
        )
        return out
    first_at = f", first at {_s(first)}" if first is not None else ""
    out.measured(
        f"a face is visible in {_pct(share)} of sampled frames{first_at}",
        face_frame_share=share,
        first_face_s=first,
    )
    if first is not None and first > HOOK_WINDOW_S:
        out.opinion(
            f"the first face appears at {_s(first)}, after the hook; {bench}",
            bench,
            first_face_s=first,
        )
    elif share >= 0.5:
        out.opinion(
            f"face-led ({_pct(share)} of frames), which suits a UGC style",
            bench,
            face_frame_share=share,
        )
    return out


def _audio(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("audio")
    if m.get("has_audio") is False:
        out.measured("no audio track", has_audio=False)
        return out
    lufs, silence = as_number(m, "loudness_lufs"), as_number(m, "silence_ratio")
    if lufs is not None:
        out.measured(f"integrated loudness {lufs:.1f} LUFS", loudness_lufs=lufs)
        target = f"the {LOUDNESS_TARGET_LUFS:g} LUFS target"
        bench = f"social platforms play audio at about {LOUDNESS_TARGET_LUFS:g} LUFS"
        gap = lufs - LOUDNESS_TARGET_LUFS
        if gap < -LOUDNESS_TOLERANCE_DB:
            verdict = (
                f"{abs(gap):.1f} dB quieter than {target}; it will sound quiet next to other ads"
            )
        elif gap > LOUDNESS_TOLERANCE_DB:
            verdict = f"{gap:.1f} dB louder than {target}; platforms will turn it down, and limiting can sound harsh"
        else:
            verdict = f"within {LOUDNESS_TOLERANCE_DB:g} dB of {target}"
        out.opinion(verdict, bench, loudness_lufs=lufs)
    if silence is not None:
        out.measured(f"silence in {_pct(silence)} of the runtime", silence_ratio=silence)
        if silence > SILENCE_RATIO_HIGH:
            bench = f"more than {_pct(SILENCE_RATIO_HIGH)} silence loses sound-on viewers"
            out.opinion(
                f"{_pct(silence)} silence is a lot of dead air ({bench}); music or a tighter edit fills it",
                bench,
                silence_ratio=silence,
            )
    return out


def _call_to_action(inputs: ReportInputs) -> list[AnalysisPoint]:
    out, cta, duration = (
        _Findings("call_to_action"),
        _cta(inputs),
        as_number(inputs.metrics, "duration_s"),
    )
    if cta is None:
        bench = "an explicit ask (what to tap, and why now) usually lifts response"
        out.measured("no call to action detected in speech or on-screen text")
        out.opinion(f"no explicit call to action; {bench}", bench)
        return out
    at, (spoken, shown) = as_number(cta, "time_s"), _cta_channels(cta)
    phrase = str(cta.get("phrase") or "").strip()
    text = _quote(cta["text"], 80)
    if phrase and _norm(phrase) != _norm(str(cta["text"])):
        text = f"{_quote(phrase, 40)} in {text}"
    if at is not None:
        text += f" at {_s(at)}" + (f" ({_pct(at / duration)} of the way in)" if duration else "")
    channels = [name for name, used in (("speech", spoken), ("on-screen text", shown)) if used]
    if channels:
        text += ", " + " and ".join(channels)
    out.measured(
        text, cta_text=cta["text"], cta_phrase=phrase or None, time_s=at, source=cta.get("source")
    )
    if at is not None and duration:
        share, of = at / duration, f"({_s(at)} of {_s(duration)})"
        bench = (
            f"CTAs usually land in the final quarter (after {_pct(CTA_LATE_SHARE)} of the runtime)"
        )
        if share < 0.5:
            verdict = f"the CTA comes early {of}; repeat it in the last seconds, where viewers who stayed expect it"
        elif share >= CTA_LATE_SHARE:
            verdict = f"the CTA lands in the final quarter {of}, where viewers expect it"
        else:
            verdict = (
                f"the CTA comes mid-ad {of}; repeating it at the end would catch viewers who stay"
            )
        out.opinion(verdict, bench, time_s=at, duration_s=duration)
    bench = "a CTA both said and shown reaches sound-on and sound-off viewers"
    if spoken and not shown:
        out.opinion(
            f"the CTA is only spoken; {bench}, so put it on screen too",
            bench,
            cta_said=True,
            cta_shown=False,
        )
    elif shown and not spoken and speech_state(inputs) is Speech.TRANSCRIBED:
        out.opinion(
            f"the CTA is only on screen; {bench}, so say it too",
            bench,
            cta_said=False,
            cta_shown=True,
        )
    return out


# --- UGC script -----------------------------------------------------------------------------

WORDS_PER_SECOND = 2.6  # ~155 wpm: the most voiceover a beat can hold
_DIRECTIONS = {
    "hook": "Close-up, the creator looks straight into the phone camera from the first frame.",
    "problem": "The creator shows the everyday frustration in a natural setting, handheld.",
    "solution": "The creator brings in the product and uses it on camera.",
    "proof": "Close-up of the product and the result; the creator reacts honestly.",
    "cta": "The creator points at the caption and says the call to action.",
}


def script_duration(inputs: ReportInputs) -> int:
    """Whole seconds (generate-video takes integers): the ad's length, held within 15–30 s."""
    duration = as_number(inputs.metrics, "duration_s") or float(LENGTH_RANGE_S[0])
    return int(min(LENGTH_RANGE_S[1], max(LENGTH_RANGE_S[0], round(duration))))


def _beat_windows(total: int) -> dict[str, tuple[float, float]]:
    """Hook 0–3 s, CTA the last 3–4 s, the middle split problem 30% / solution 40% / proof 30%."""
    hook_end, cta_start = 3.0, float(total - (4 if total >= 20 else 3))
    middle = cta_start - hook_end
    problem_end = hook_end + round(middle * 0.3 * 2) / 2
    solution_end = problem_end + round(middle * 0.4 * 2) / 2
    return {
        "hook": (0.0, hook_end),
        "problem": (hook_end, problem_end),
        "solution": (problem_end, solution_end),
        "proof": (solution_end, cta_start),
        "cta": (cta_start, float(total)),
    }


def _assign_lines(inputs: ReportInputs) -> dict[str, list[Line]]:
    """The ad's own lines for each beat, keeping the ad's order: its opening lines are the hook, its
    offer goes with its CTA, and the middle runs problem → solution → proof, switching at the
    first line with a solution cue and then at the first with a proof cue (numbers, reviews, …)."""
    cta = _cta(inputs)
    cta_norm = _norm(str(cta["text"])) if cta else ""
    lines = [
        line
        for line in ad_lines(inputs)
        if not (cta_norm and _overlaps(_norm(line.text), cta_norm))
    ]
    hook_end = as_number(inputs.breakdown.get("hook") or {}, "end_s") or HOOK_WINDOW_S
    opening = [line for line in lines if line.time_s < hook_end]
    first = ([line for line in opening if line.spoken] or opening or lines)[:1]
    caption = [line for line in opening if not line.spoken and line not in first][:1]
    beats: dict[str, list[Line]] = {"hook": first + caption}
    rest = [line for line in lines if line not in beats["hook"]]
    offer = next((line for line in rest if _OFFER.search(line.text)), None)
    beats["problem"], beats["solution"], beats["proof"] = [], [], []
    state = "problem"
    for line in rest:
        if line is offer:
            continue
        if state == "problem" and _SOLUTION.search(line.text):
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
            Line(as_number(cta, "time_s") or 0.0, text, spoken=_cta_channels(cta)[0])
        )
    return beats


def _overlaps(line: str, cta: str) -> bool:
    """Whether a line is (part of) the CTA's text or contains it: the CTA beat says it once."""
    return bool(line) and (f" {line} " in f" {cta} " or f" {cta} " in f" {line} ")


def _within_budget(lines: list[Line], seconds: float, *, keep_last: bool = False) -> list[Line]:
    """The first line (or, for the CTA, the last) always; more while the words fit the beat at a
    normal speaking rate."""
    kept: list[Line] = []
    words = 0
    for line in reversed(lines) if keep_last else lines:
        count = len(line.text.split())
        if kept and words + count > seconds * WORDS_PER_SECOND:
            break
        kept.append(line)
        words += count
    return kept[::-1] if keep_last else kept


def script_beats(inputs: ReportInputs) -> list[Beat]:
    windows = _beat_windows(script_duration(inputs))
    assigned = _assign_lines(inputs)
    beats = []
    for kind, (start, end) in windows.items():
        lines = assigned.get(kind, [])
        # What the creator says: the ad's speech, or its on-screen text when it has no speech here.
        voiced = [line for line in lines if line.spoken] or lines
        voiced = _within_budget(voiced, end - start, keep_last=kind == "cta")
        shown = [line.text for line in lines if not line.spoken]
        direction = _DIRECTIONS[kind]
        if kind == "cta" and _cta(inputs) is None:
            closing = (
                "The creator closes on the ad's offer"
                if lines
                else "End on a clear shot of the product"
            )
            direction = closing + "; the original ad has no call to action to reuse."
        elif not lines:
            direction += " No dialogue in this beat."
        voiceover = " ".join(line.text for line in voiced)
        if shown:
            on_screen = shown[-1] if kind == "cta" else shown[0]
        else:  # the hook and the CTA always get a caption: the spoken line itself
            on_screen = voiced[-1].text if voiced and kind in ("hook", "cta") else ""
        beats.append(Beat(kind, start, end, _clip(voiceover, 300), _clip(on_screen, 60), direction))
    return beats


def _clip(text: str, limit: int) -> str:
    return _quote(text, limit)[1:-1] if text else ""


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
        f"UGC-style {'vertical ' if aspect == '9:16' else ''}{aspect} video, {total:g} seconds: one creator filming "
        "themselves on a phone at home, handheld, natural light, burned-in captions."
    )
    language = _language_name(inputs)
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
            sentence += (
                f" They say: {_quote(beat.voiceover, 300 if beat.beat == 'cta' else limit)}."
            )
        if beat.on_screen and beat.on_screen != beat.voiceover:
            sentence += f" On-screen text: {_quote(beat.on_screen, min(limit, 60))}."
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
