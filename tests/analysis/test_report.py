"""The deterministic engine (D18) on hand-built ads: specific, traceable, labelled, never
invented."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knightvision.analysis.report import write_report
from knightvision.analysis.writing import deterministic
from knightvision.analysis.writing.deterministic.dialogue import connecting_line
from knightvision.analysis.writing.deterministic.facts import OFFER
from knightvision.analysis.writing.document import (
    BEAT_KINDS,
    UGC_SCRIPT_MAX_CHARS,
    Report,
    ReportInputs,
)
from tests.fixtures.ad_reports import (
    assert_no_nulls,
    assert_well_formed,
    fast_cut_ad,
    hook,
    slow_silent_ad,
    transcript_of,
    untranscribable_ad,
    with_metrics,
)


def lines_about(report: Report, topic: str) -> list[str]:
    return [p.text for p in report.analysis_points if p.topic == topic]


# --- tests ----------------------------------------------------------------------------------


def test_fast_cut_ad_quotes_its_measured_numbers() -> None:
    report = write_report(fast_cut_ad(), None)
    result = assert_well_formed(report)
    analysis = report.analysis
    for fact in (
        "22.4 s long",
        "1080×1920 (9:16)",
        "first cut at 1.2 s",
        "11 shots",
        "average shot 2.0 s",
        "4.5 cuts per 10 s",
        "152 words per minute",
        "speech starts at 0.3 s",
        "-15.2 LUFS",
        "face is visible in 62% of sampled frames",
        "silence in 8% of the runtime",
        '"shop now" in "Tap shop now" at 19.5 s (87% of the way in), speech and on-screen text',
    ):
        assert fact in analysis, fact
    assert (
        "Hook: first cut at 1.2 s keeps the opening moving (short-form ads usually cut within 2 s) "
        "(opinion)" in (analysis)
    )
    assert "lands in the final quarter" in analysis
    assert "TikTok" in analysis and "fills" in analysis
    assert result["engine"] == {
        "summary": "deterministic-v1",
        "analysis": "deterministic-v1",
        "ugc_script": "deterministic-v1",
        "analysis_points": "deterministic-v1",
        "transcription": "faster-whisper:small",
    }
    assert result["transcription"].startswith("Tired of greasy hair by noon?")


def test_summary_says_what_the_ad_is_its_length_format_and_structure() -> None:
    summary = write_report(fast_cut_ad(), None).summary
    assert summary.startswith("A 22.4 s vertical (9:16) TikTok video ad.")
    assert '"Get 50% off your first order today"' in summary
    assert (
        "11 shots (average 2.0 s), a voiceover of 41 words and 3 on-screen text blocks" in summary
    )
    assert 'call to action "Tap shop now" at 19.5 s' in summary
    assert 2 <= summary.count(". ") + 1 <= 4


def test_ugc_script_reuses_the_ads_own_lines_and_cta() -> None:
    report = write_report(fast_cut_ad(), None)
    beats = {b.beat: b for b in report.ugc_script_beats}
    assert beats["hook"].voiceover == "Tired of greasy hair by noon?"
    assert beats["hook"].on_screen == "Greasy by noon?"
    assert "Then I found GlowWash" in beats["solution"].voiceover
    assert beats["proof"].voiceover == "Over 20,000 five-star reviews"
    assert beats["cta"].voiceover == "Get 50% off your first order today. Tap shop now"
    assert (beats["cta"].start_s, beats["cta"].end_s) == (18.0, 22.0)
    script = report.ugc_script
    assert script.startswith("UGC-style vertical 9:16 video, 22 seconds")
    assert "Tap shop now" in script and "18–22 s, cta:" in script


def test_measured_points_trace_back_to_the_metrics() -> None:
    inputs = fast_cut_ad()
    for point in write_report(inputs, None).analysis_points:
        for key, value in point.basis.items():
            if key in inputs.metrics:
                assert value == inputs.metrics[key] or value == float(inputs.metrics[key]), (
                    key,
                    value,
                )
        for number in re.findall(r"\d+(?:\.\d+)?", point.text) if point.kind == "measured" else []:
            known = [str(v) for v in point.basis.values()] + [point.text]
            assert any(number in text for text in known), (number, point.text)


def test_slow_ad_without_speech_says_nothing_about_speech_it_does_not_have() -> None:
    report = write_report(slow_silent_ad(), None)
    result = assert_well_formed(report)
    text = (report.summary + report.analysis + report.ugc_script).lower()
    for absent in ("wpm", "words per minute", "speech starts", "voiceover of"):
        assert absent not in text, absent
    assert result["transcription"] == ""
    assert "Speech: no speech detected" in report.analysis
    assert "audio without speech" in report.summary
    assert "average shot of 10.0 s is slow" in report.analysis
    assert (
        "first cut at 9.5 s; short-form ads usually cut within 2 s — consider an earlier cut "
        "(opinion)" in (report.analysis)
    )
    assert "landscape 1920×1080 (16:9)" in report.analysis and "Facebook" in report.analysis
    assert "-21.5 LUFS is 7.5 dB quieter than the -14 LUFS target" in report.analysis
    assert "no face detected" in report.analysis
    assert "carousel ad: only its first video was analysed" in report.analysis
    assert (
        "the first video of a carousel ad" in report.summary and '"Oakline Desks"' in report.summary
    )


def test_slow_ad_script_voices_its_on_screen_text_and_fits_15_to_30_s() -> None:
    report = write_report(slow_silent_ad(), None)
    beats = {b.beat: b for b in report.ugc_script_beats}
    assert beats["hook"].voiceover == "Handmade oak desks"
    assert beats["cta"].voiceover == "Order yours today" and beats["cta"].end_s == 30
    assert "Built to last 30 years" in report.ugc_script
    assert report.ugc_script.startswith("UGC-style 16:9 video, 30 seconds")


def test_untranscribable_speech_is_reported_and_never_quoted() -> None:
    report = write_report(untranscribable_ad(), None)
    result = assert_well_formed(report)
    everything = str(result)
    assert "zorbl" not in everything
    assert (
        result["transcription"]
        == "[Speech not transcribed (language: yo): language yo is not supported]"
    )
    assert "speech that could not be transcribed" in report.summary
    assert "nothing in this analysis is based on what is said" in report.analysis
    assert "words per minute" not in report.analysis and "wpm" not in report.analysis


def test_without_a_note_the_transcription_still_says_speech_was_not_transcribed() -> None:
    inputs = untranscribable_ad()
    bare = ReportInputs(
        {**inputs.transcript, "note": None, "language": None}, inputs.metrics, inputs.breakdown
    )
    assert deterministic.transcription(bare) == (
        "[Speech detected but the configured transcription model could not transcribe it]"
    )


def test_low_confidence_segments_are_never_quoted() -> None:
    inputs = fast_cut_ad()
    segments = [dict(s) for s in inputs.transcript["segments"]]
    segments[2] |= {"text": "Mmm blarg tea tree flub.", "low_confidence": True}
    transcript = {**inputs.transcript, "segments": segments}
    report = write_report(
        ReportInputs(transcript, inputs.metrics, inputs.breakdown, [], inputs.source), None
    )
    assert "blarg" not in report.summary + report.ugc_script + str(
        [b.to_dict() for b in report.ugc_script_beats]
    )


def test_cta_early_versus_late() -> None:
    early = with_metrics(
        fast_cut_ad(), call_to_action={"text": "Tap shop now", "time_s": 4.0, "source": "speech"}
    )
    report = write_report(early, None)
    assert '"Tap shop now" at 4.0 s (18% of the way in), speech (measured)' in report.analysis
    assert "the CTA comes early (4.0 s of 22.4 s); repeat it in the last seconds" in report.analysis
    assert "the CTA is only spoken" in report.analysis
    late = write_report(fast_cut_ad(), None)
    assert "the CTA lands in the final quarter (19.5 s of 22.4 s)" in late.analysis
    assert "comes early" not in late.analysis


def test_no_cta_is_said_plainly_and_the_script_does_not_invent_one() -> None:
    inputs = with_metrics(fast_cut_ad(), call_to_action=None)
    report = write_report(inputs, None)
    assert_well_formed(report)
    assert (
        "Call to action: no call to action detected in speech or on-screen text (measured)"
        in report.analysis
    )
    assert "no explicit call to action" in report.analysis
    assert report.summary.endswith('No call to action was detected; it ends on "Tap shop now".')
    cta = report.ugc_script_beats[-1]
    assert cta.beat == "cta" and "no call to action to reuse" in cta.direction
    assert "Tap shop now" not in cta.voiceover


def test_very_short_ad_and_a_silent_textless_one() -> None:
    short = with_metrics(
        slow_silent_ad(),
        duration_s=4.0,
        has_audio=False,
        on_screen_text=[],
        call_to_action=None,
        loudness_lufs=None,
        silence_ratio=None,
        first_cut_s=None,
        shot_count=1,
        scene_cuts=[],
        average_shot_length_s=4.0,
        cuts_per_10s=0.0,
    )
    short = ReportInputs(
        short.transcript,
        short.metrics,
        {"hook": hook([], face=False)},
        [],
        {"platform": "instagram"},
    )
    report = write_report(short, None)
    assert_well_formed(report)
    assert "at 4.0 s it is very short" in report.analysis
    assert "no audio track" in report.analysis
    assert "no words at all" in report.analysis
    assert "LUFS" not in report.analysis
    assert report.ugc_script_beats[-1].end_s == 15
    # Nothing to reuse: every beat still has a line to say, and none of them claims anything.
    said = [b.voiceover for b in report.ugc_script_beats]
    assert all(said)
    assert said == [connecting_line(b.beat, None).rstrip(".") for b in report.ugc_script_beats]
    assert not any(OFFER.search(line) or re.search(r"\d", line) for line in said)


def test_a_long_wordy_ad_still_gives_a_postable_script() -> None:
    sentence = (
        "This incredibly long sentence keeps going about the product "
        "and all of its many features and benefits"
    )
    inputs = fast_cut_ad()
    long = ReportInputs(
        transcript_of([(i * 2.0, i * 2.0 + 2, f"{sentence} number {i}.") for i in range(40)]),
        {**inputs.metrics, "duration_s": 80.0},
        inputs.breakdown,
        [],
        inputs.source,
    )
    report = write_report(long, None)
    assert_well_formed(report)
    assert "Tap shop now" in report.ugc_script


def test_non_english_speech_keeps_its_language_in_the_script() -> None:
    inputs = fast_cut_ad()
    transcript = transcript_of(
        [(0.2, 2.0, "¿Cansada del pelo graso?"), (19.0, 21.0, "Compra ahora.")], language="es"
    )
    cta = {"text": "Compra ahora", "time_s": 19.0, "source": "speech"}
    metrics = with_metrics(inputs, call_to_action=cta).metrics
    spanish = ReportInputs(transcript, metrics, inputs.breakdown, [], inputs.source)
    report = write_report(spanish, None)
    assert "speaks the ad's language (es)" in report.ugc_script
    assert "¿Cansada del pelo graso?" in report.ugc_script and "Compra ahora" in report.ugc_script


_maybe_number = st.one_of(st.none(), st.floats(min_value=0, max_value=120, allow_nan=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.floats(min_value=0.5, max_value=300),
    width=st.sampled_from([None, 720, 1080, 1920]),
    height=st.sampled_from([None, 720, 1080, 1920]),
    first_cut=_maybe_number,
    asl=_maybe_number,
    lufs=st.one_of(st.none(), st.floats(min_value=-60, max_value=0)),
    face=st.one_of(st.none(), st.floats(0, 1)),
    texts=st.lists(st.text(min_size=0, max_size=300), max_size=8),
    cta_at=_maybe_number,
    platform=st.sampled_from(["tiktok", "facebook", "instagram", "", "other"]),
    has_audio=st.booleans(),
    speech=st.lists(st.text(max_size=400), max_size=12),
    transcribable=st.booleans(),
)
def test_any_measurements_give_a_well_formed_report(
    duration: float,
    width: int | None,
    height: int | None,
    first_cut: float | None,
    asl: float | None,
    lufs: float | None,
    face: float | None,
    texts: list[str],
    cta_at: float | None,
    platform: str,
    has_audio: bool,
    speech: list[str],
    transcribable: bool,
) -> None:
    metrics: dict[str, Any] = {
        "duration_s": duration,
        "width": width,
        "height": height,
        "aspect_ratio": None,
        "first_cut_s": first_cut,
        "average_shot_length_s": asl,
        "shot_count": 3,
        "loudness_lufs": lufs,
        "face_frame_share": face,
        "has_audio": has_audio,
        "on_screen_text": [{"start_s": i, "end_s": i + 1, "text": t} for i, t in enumerate(texts)],
        "call_to_action": None,
    }
    if texts and cta_at is not None:
        metrics["call_to_action"] = {"text": texts[0], "time_s": cta_at, "source": "overlay"}
    transcript = {
        **transcript_of([(i, i + 1.0, t) for i, t in enumerate(speech)]),
        "transcribable": transcribable,
    }
    report = write_report(ReportInputs(transcript, metrics, {}, [], {"platform": platform}), None)
    result = report.to_result()
    assert len(result["ugc_script"]) <= UGC_SCRIPT_MAX_CHARS
    assert_no_nulls(result)
    assert [b["beat"] for b in result["ugc_script_beats"]] == list(BEAT_KINDS)
    cta = metrics["call_to_action"]
    if cta and cta["text"].strip():
        assert (
            " ".join(cta["text"].split()).replace('"', "'")[:40].rstrip(".") in result["ugc_script"]
        )


def test_engine_labels_without_a_transcript_engine() -> None:
    inputs = fast_cut_ad()
    bare = ReportInputs({**inputs.transcript, "engine": None}, inputs.metrics, inputs.breakdown)
    assert "transcription" not in deterministic.write(bare).engine


def test_the_summary_reads_an_before_a_spoken_vowel() -> None:
    assert write_report(with_metrics(fast_cut_ad(), duration_s=8.0), None).summary.startswith(
        "An 8.0 s vertical (9:16) TikTok video ad."
    )
    assert write_report(with_metrics(fast_cut_ad(), duration_s=18.5), None).summary.startswith(
        "An 18.5 s"
    )
    assert write_report(fast_cut_ad(), None).summary.startswith("A 22.4 s")
