"""The ``analysis_points`` and the ``analysis`` text made of them: per topic, measured facts that
quote the metrics, and opinions that judge them against a benchmark they name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from knightvision.analysis.writing.deterministic.benchmarks import (
    CAPTIONED_SPEECH_LOW,
    CTA_LATE_SHARE,
    FIRST_CUT_WITHIN_S,
    HOOK_WINDOW_S,
    LENGTH_RANGE_S,
    LOUDNESS_TARGET_LUFS,
    LOUDNESS_TOLERANCE_DB,
    MIN_SHORT_SIDE_PX,
    SHOT_LENGTH_RANGE_S,
    SILENCE_RATIO_HIGH,
    SPEECH_START_WITHIN_S,
    WPM_RANGE,
)
from knightvision.analysis.writing.deterministic.facts import (
    Speech,
    ad_lines,
    as_number,
    covered_time,
    cta_channels,
    cta_held_to_end,
    cta_on_screen,
    language_name,
    measured_cta,
    normalised,
    on_screen_texts,
    overlap_time,
    speech_state,
    transcript_segments,
    untranscribable_phrase,
)
from knightvision.analysis.writing.deterministic.wording import (
    percent_text,
    quote,
    seconds_text,
)
from knightvision.analysis.writing.document import AnalysisPoint, ReportInputs
from knightvision.providers.ad_source.urls import PLATFORM_NAMES, Platform

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


class _Findings(list[AnalysisPoint]):
    """One topic's points, in the order they are found. A measured point has an id naming the
    fact (the same id for the same fact in every ad); an opinion names the ids it judges."""

    def __init__(self, topic: str) -> None:
        super().__init__()
        self.topic = topic

    def measured(self, finding_id: str, text: str, **basis: Any) -> None:
        self.append(AnalysisPoint("measured", self.topic, text, basis, id=finding_id))

    def opinion(
        self, text: str, benchmark: str, *, rests_on: tuple[str, ...], **basis: Any
    ) -> None:
        self.append(AnalysisPoint("opinion", self.topic, text, basis, benchmark, rests_on=rests_on))


def analysis_points(inputs: ReportInputs) -> list[AnalysisPoint]:
    points: list[AnalysisPoint] = []
    for section in (_format, _hook, _pacing, _speech, _captions, _faces, _audio, _call_to_action):
        points.extend(section(inputs))
    # An opinion cites only facts this ad has measured (a section may judge another's fact).
    ids = {point.id for point in points if point.id}
    return [
        replace(point, rests_on=tuple(i for i in point.rests_on if i in ids))
        if point.rests_on
        else point
        for point in points
    ]


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
        facts.append(seconds_text(duration) + " long")
    if width and height:
        facts.append(f"{int(width)}×{int(height)}" + (f" ({aspect})" if aspect else ""))
    if fps:
        facts.append(f"{fps:g} fps")
    if size:
        facts.append(f"{size / 1_000_000:.1f} MB")
    if facts:
        out.measured(
            "format",
            ", ".join(facts),
            duration_s=duration,
            width=width,
            height=height,
            aspect_ratio=aspect,
            fps=fps,
        )
    if inputs.source.get("carousel"):
        out.measured("carousel", "carousel ad: only its first video was analysed")
    if duration is not None:
        low, high = LENGTH_RANGE_S
        bench = f"short-form ads commonly run {low}–{high} s"
        if duration < 6:
            verdict = (
                f"at {seconds_text(duration)} it is very short ({bench}); "
                "there is room for a hook and a CTA, little else"
            )
        elif duration > 60:
            verdict = (
                f"at {seconds_text(duration)} it is long for short-form ({bench}); "
                "most viewers will leave before the end"
            )
        elif duration > high:
            verdict = (
                f"at {seconds_text(duration)} it runs past the {bench.split('run ')[1]} "
                "typical of short-form ads; "
                f"check retention after {high} s"
            )
        else:
            verdict = f"{seconds_text(duration)} is within the usual length for short-form ads"
        out.opinion(verdict, bench, rests_on=("format",), duration_s=duration)
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
                rests_on=("format",),
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
    # The ad's own size in the verdict, so two ads of one shape still read as themselves.
    ratio, label = (
        width / height,
        f"{int(width)}×{int(height)}" + (f" ({aspect})" if aspect else ""),
    )
    if platform == Platform.TIKTOK:
        bench = "TikTok is a full-screen 9:16 feed"
        if ratio <= 0.6:
            verdict = f"{label} fills TikTok's full-screen vertical feed"
        else:
            verdict = (
                f"{label} does not fill TikTok's 9:16 screen; "
                "it will show with bars or be cropped — "
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
                f"{label} suits the {name} feed; "
                "Reels and Stories would show it with empty space — "
                "a 9:16 version would fill them"
            )
        else:
            verdict = (
                f"landscape {label} uses only a strip of a phone screen on {name}; "
                "a 4:5 or 9:16 version would take more of it"
            )
    out.opinion(verdict, bench, rests_on=("format",), aspect_ratio=aspect)


def _hook(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("hook")
    first_cut, duration = as_number(m, "first_cut_s"), as_number(m, "duration_s")
    if first_cut is not None:
        out.measured("first_cut", f"first cut at {seconds_text(first_cut)}", first_cut_s=first_cut)
        bench = f"short-form ads usually cut within {FIRST_CUT_WITHIN_S:g} s"
        if first_cut > FIRST_CUT_WITHIN_S:
            verdict = f"first cut at {seconds_text(first_cut)}; {bench} — consider an earlier cut"
        else:
            verdict = f"first cut at {seconds_text(first_cut)} keeps the opening moving ({bench})"
        out.opinion(verdict, bench, rests_on=("first_cut",), first_cut_s=first_cut)
    elif m.get("shot_count") == 1 and duration:
        out.measured(
            "no_cut",
            f"no cut: the ad is one continuous {seconds_text(duration)} shot",
            shot_count=1,
            duration_s=duration,
        )
    hook = _dict_or_empty(inputs.breakdown.get("hook"))
    seen = _dict_or_empty(hook.get("seen"))
    window = f"first {as_number(hook, 'end_s') or HOOK_WINDOW_S:g} s"
    texts = [str(t).strip() for t in seen.get("on_screen_text") or [] if str(t).strip()][:3]
    said = str(hook.get("said") or "").strip() if speech_state(inputs) is Speech.TRANSCRIBED else ""
    if texts:
        quoted = ", ".join(quote(text, 60) for text in texts)
        out.measured(
            "hook_text", f"on-screen text in the {window}: {quoted}", hook_on_screen_text=texts
        )
    if said:
        out.measured("hook_said", f"said in the {window}: {quote(said, 100)}", hook_said=said)
    if isinstance(seen.get("face"), bool):
        visible = "visible" if seen["face"] else "not visible"
        out.measured("hook_face", f"a face is {visible} in the {window}", hook_face=seen["face"])
    if hook and not texts and not said:
        bench = f"viewers decide whether to keep watching in the first {HOOK_WINDOW_S:g} s"
        out.opinion(
            f"the {window} carry no words (no speech, no on-screen text); "
            "a text hook is worth testing",
            bench,
            rests_on=("speech", "captions"),
        )
    return out


def _dict_or_empty(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


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
        facts.append(f"average shot {seconds_text(asl)}")
    if per10 is not None:
        facts.append(f"{per10:.1f} cuts per 10 s")
    if facts:
        out.measured(
            "pacing",
            ", ".join(facts),
            shot_count=shots,
            average_shot_length_s=asl,
            cuts_per_10s=per10,
        )
    low, high = SHOT_LENGTH_RANGE_S
    bench = f"short-form ads usually hold shots {low:g}–{high:g} s"
    duration = as_number(m, "duration_s")
    if asl is not None and isinstance(shots, int) and shots > 1:
        if asl > high:
            verdict = (
                f"average shot of {seconds_text(asl)} is slow for a scrolling feed ({bench}); "
                "tighter cuts or B-roll would add energy"
            )
        elif asl < low:
            verdict = (
                f"average shot of {seconds_text(asl)} is very fast ({bench}); "
                "make sure each message stays on screen long enough to read"
            )
        else:
            verdict = f"average shot of {seconds_text(asl)} is a typical short-form pace ({bench})"
        out.opinion(verdict, bench, rests_on=("pacing",), average_shot_length_s=asl)
    elif shots == 1 and duration and duration > 2 * high:
        out.opinion(
            f"one unbroken {seconds_text(duration)} shot relies entirely on its content "
            f"to hold attention ({bench}); "
            "jump cuts or B-roll are worth testing",
            bench,
            rests_on=("no_cut", "pacing"),
            shot_count=1,
            duration_s=duration,
        )
    return out


def _speech(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out, state = inputs.metrics, _Findings("speech"), speech_state(inputs)
    if state is Speech.NO_AUDIO:
        out.measured("speech", "no audio track, so no speech", has_audio=False)
        return out
    if state is Speech.NONE:
        out.measured(
            "speech", "no speech detected; the message rests on visuals, on-screen text and sound"
        )
        return out
    if state is Speech.UNTRANSCRIBABLE:
        phrase = untranscribable_phrase(inputs)
        out.measured(
            "speech",
            phrase[0].lower() + phrase[1:] + "; nothing in this analysis is based on what is said",
            language=language_name(inputs),
            transcribable=False,
        )
        return out
    words, wpm, start = (
        m.get("word_count"),
        as_number(m, "words_per_minute"),
        as_number(m, "speech_start_s"),
    )
    language = language_name(inputs)
    facts = []
    if isinstance(words, int):
        facts.append(f"{words} words")
    if wpm is not None:
        facts.append(f"{round(wpm)} words per minute")
    if start is not None:
        facts.append(f"speech starts at {seconds_text(start)}")
    if language:
        facts.append(f"language {language}")
    if facts:
        out.measured(
            "speech",
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
            verdict = (
                f"{round(wpm)} wpm is fast ({bench}); "
                "dense lines are hard to follow without captions"
            )
        elif wpm < low:
            verdict = (
                f"{round(wpm)} wpm is unhurried ({bench}); trimming pauses would tighten the ad"
            )
        else:
            verdict = f"{round(wpm)} wpm is a comfortable pace ({bench})"
        out.opinion(verdict, bench, rests_on=("speech",), words_per_minute=wpm)
    if start is not None and start > SPEECH_START_WITHIN_S:
        bench = f"hooks usually speak within the first {SPEECH_START_WITHIN_S:g} s"
        out.opinion(
            f"the first words come at {seconds_text(start)}; {bench} — "
            "consider starting the voice sooner",
            bench,
            rests_on=("speech",),
            speech_start_s=start,
        )
    return out


def _captions(inputs: ReportInputs) -> list[AnalysisPoint]:
    out, items, state = _Findings("captions"), on_screen_texts(inputs), speech_state(inputs)
    muted = "most feed video is watched with the sound off"
    if not items:
        out.measured("captions", "no on-screen text detected")
        if state is Speech.TRANSCRIBED:
            out.opinion(
                f"the speech has no captions; {muted}, so burned-in captions usually help",
                muted,
                rests_on=("captions", "speech"),
            )
        elif state in (Speech.NONE, Speech.NO_AUDIO):
            out.opinion(
                "the ad has no words at all (no speech, no on-screen text); "
                "the offer depends on visuals alone",
                "an ad needs words somewhere to say what it offers",
                rests_on=("captions", "speech"),
            )
        return out
    starts = [as_number(item, "start_s") or 0.0 for item in items]
    intervals = [
        (start, as_number(item, "end_s") or start)
        for start, item in zip(starts, items, strict=True)
    ]
    first = min(start for start, _ in intervals)
    text = (
        f"{len(items)} on-screen text block{'s' if len(items) != 1 else ''}, "
        f"first at {seconds_text(first)}"
    )
    basis: dict[str, Any] = {"on_screen_text_blocks": len(items), "first_text_s": first}
    if duration := as_number(inputs.metrics, "duration_s"):
        share = min(1.0, covered_time(intervals) / duration)
        text += f", on screen for {percent_text(share)} of the runtime"
        basis["text_time_share"] = round(share, 3)
    out.measured("captions", text, **basis)
    spoken = [
        (as_number(s, "start") or 0.0, as_number(s, "end") or 0.0)
        for s in transcript_segments(inputs)
    ]
    if (speech_time := covered_time(spoken)) > 0:
        captioned = round(min(1.0, overlap_time(spoken, intervals) / speech_time), 3)
        out.measured(
            "captioned_speech",
            f"on-screen text runs during {percent_text(captioned)} of the speaking time",
            captioned_speech_share=captioned,
        )
        if captioned < CAPTIONED_SPEECH_LOW:
            out.opinion(
                f"much of the speech has no text on screen; {muted}, "
                "so fuller captions usually help",
                muted,
                rests_on=("captioned_speech",),
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
        out.measured("faces", "no face detected in the sampled frames", face_frame_share=0.0)
        out.opinion(
            f"no one appears on camera {_faceless_message(inputs)}; {bench}, "
            "which is worth testing",
            bench,
            rests_on=("faces",),
            face_frame_share=0.0,
        )
        return out
    first_at = f", first at {seconds_text(first)}" if first is not None else ""
    out.measured(
        "faces",
        f"a face is visible in {percent_text(share)} of sampled frames{first_at}",
        face_frame_share=share,
        first_face_s=first,
    )
    if first is not None and first > HOOK_WINDOW_S:
        out.opinion(
            f"the first face appears at {seconds_text(first)}, after the hook; {bench}",
            bench,
            rests_on=("faces",),
            first_face_s=first,
        )
    elif share >= 0.5:
        out.opinion(
            f"face-led ({percent_text(share)} of frames), which suits a UGC style",
            bench,
            rests_on=("faces",),
            face_frame_share=share,
        )
    return out


def _faceless_message(inputs: ReportInputs) -> str:
    """What the ad puts across without a face: its first and last lines, or its length."""
    lines = ad_lines(inputs)
    if lines:
        said = quote(lines[0].text, 60)
        if len(lines) > 1:
            said += f" or {quote(lines[-1].text, 60)}"
        return f"to deliver {said}"
    duration = as_number(inputs.metrics, "duration_s")
    return f"in its {seconds_text(duration)}" if duration is not None else "at any point"


def _audio(inputs: ReportInputs) -> list[AnalysisPoint]:
    m, out = inputs.metrics, _Findings("audio")
    if m.get("has_audio") is False:
        out.measured("audio", "no audio track", has_audio=False)
        return out
    lufs, silence = as_number(m, "loudness_lufs"), as_number(m, "silence_ratio")
    if lufs is not None:
        out.measured("loudness", f"integrated loudness {lufs:.1f} LUFS", loudness_lufs=lufs)
        target = f"the {LOUDNESS_TARGET_LUFS:g} LUFS target"
        bench = f"social platforms play audio at about {LOUDNESS_TARGET_LUFS:g} LUFS"
        gap = lufs - LOUDNESS_TARGET_LUFS
        measured = f"{lufs:.1f} LUFS"  # the ad's own reading leads each verdict
        if gap < -LOUDNESS_TOLERANCE_DB:
            verdict = (
                f"{measured} is {abs(gap):.1f} dB quieter than {target}; "
                "it will sound quiet next to other ads"
            )
        elif gap > LOUDNESS_TOLERANCE_DB:
            verdict = (
                f"{measured} is {gap:.1f} dB louder than {target}; "
                "platforms will turn it down, and limiting can sound harsh"
            )
        else:
            verdict = f"{measured} is within {LOUDNESS_TOLERANCE_DB:g} dB of {target}"
        out.opinion(verdict, bench, rests_on=("loudness",), loudness_lufs=lufs)
    if silence is not None:
        out.measured(
            "silence", f"silence in {percent_text(silence)} of the runtime", silence_ratio=silence
        )
        if silence > SILENCE_RATIO_HIGH:
            bench = f"more than {percent_text(SILENCE_RATIO_HIGH)} silence loses sound-on viewers"
            out.opinion(
                f"{percent_text(silence)} silence is a lot of dead air ({bench}); "
                "music or a tighter edit fills it",
                bench,
                rests_on=("silence",),
                silence_ratio=silence,
            )
    return out


def _unasked(inputs: ReportInputs) -> str:
    """Where the ad stops without asking: its last line, or its length when it has no words."""
    if lines := ad_lines(inputs):
        return f"after {quote(lines[-1].text, 60)}, its last line"
    duration = as_number(inputs.metrics, "duration_s")
    return f"in {seconds_text(duration)} without words" if duration is not None else "and no words"


def _call_to_action(inputs: ReportInputs) -> list[AnalysisPoint]:
    out, cta, duration = (
        _Findings("call_to_action"),
        measured_cta(inputs),
        as_number(inputs.metrics, "duration_s"),
    )
    if cta is None:
        bench = "an explicit ask (what to tap, and why now) usually lifts response"
        out.measured("cta", "no call to action detected in speech or on-screen text")
        out.opinion(
            f"no explicit call to action {_unasked(inputs)}; {bench}", bench, rests_on=("cta",)
        )
        return out
    at, (spoken, shown) = as_number(cta, "time_s"), cta_channels(cta)
    shown = shown or bool(cta_on_screen(inputs, cta))  # said first, but also on screen
    to_the_end = cta_held_to_end(inputs, cta)
    phrase = str(cta.get("phrase") or "").strip()
    text = quote(cta["text"], 80)
    if phrase and normalised(phrase) != normalised(str(cta["text"])):
        text = f"{quote(phrase, 40)} in {text}"
    if at is not None:
        text += f" at {seconds_text(at)}" + (
            f" ({percent_text(at / duration)} of the way in)" if duration else ""
        )
    channels = [name for name, used in (("speech", spoken), ("on-screen text", shown)) if used]
    if channels:
        text += ", " + " and ".join(channels)
    out.measured(
        "cta",
        text,
        cta_text=cta["text"],
        cta_phrase=phrase or None,
        time_s=at,
        source=cta.get("source"),
    )
    if at is not None and duration:
        share, of = at / duration, f"({seconds_text(at)} of {seconds_text(duration)})"
        bench = (
            "CTAs usually land in the final quarter "
            f"(after {percent_text(CTA_LATE_SHARE)} of the runtime)"
        )
        if to_the_end and share < CTA_LATE_SHARE:
            verdict = (
                f"the CTA appears early {of} and stays on screen to the last frame, "
                "so viewers who stay to the end still see it"
            )
        elif share < 0.5:
            verdict = (
                f"the CTA comes early {of}; "
                "repeat it in the last seconds, where viewers who stayed expect it"
            )
        elif share >= CTA_LATE_SHARE:
            verdict = f"the CTA lands in the final quarter {of}, where viewers expect it"
        else:
            verdict = (
                f"the CTA comes mid-ad {of}; repeating it at the end would catch viewers who stay"
            )
        out.opinion(
            verdict,
            bench,
            rests_on=("cta", "format"),
            time_s=at,
            duration_s=duration,
            cta_to_last_frame=to_the_end,
        )
    bench = "a CTA both said and shown reaches sound-on and sound-off viewers"
    if spoken and not shown:
        out.opinion(
            f"the CTA is only spoken; {bench}, so put it on screen too",
            bench,
            rests_on=("cta",),
            cta_said=True,
            cta_shown=False,
        )
    elif shown and not spoken and speech_state(inputs) is Speech.TRANSCRIBED:
        out.opinion(
            f"the CTA is only on screen; {bench}, so say it too",
            bench,
            rests_on=("cta",),
            cta_said=False,
            cta_shown=True,
        )
    return out
