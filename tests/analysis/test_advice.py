"""Advice that never contradicts the measurements, a summary that names what is sold to whom, and
no sentence of advice or summary that reads the same for two different ads."""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

from knightvision.analysis.breakdown import build_breakdown
from knightvision.analysis.metrics import measure
from knightvision.analysis.report import write_report
from knightvision.analysis.writing.deterministic.facts import audience
from knightvision.analysis.writing.document import Report, ReportInputs
from knightvision.media.frames import extract_frames
from knightvision.providers.transcription.port import Transcript
from tests.fixtures import text_ads
from tests.fixtures.ad_reports import (
    fast_cut_ad,
    slow_silent_ad,
    transcript_of,
    untranscribable_ad,
    with_metrics,
)

SPOKEN_CTA = {"text": "Tap shop now.", "phrase": "shop now", "time_s": 19.5, "source": "speech"}


def _cta_advice(inputs: ReportInputs) -> list[str]:
    report = write_report(inputs, None)
    return [p.text for p in report.analysis_points if p.topic == "call_to_action"]


def test_a_cta_shown_on_screen_is_never_called_only_spoken() -> None:
    inputs = with_metrics(fast_cut_ad(), call_to_action=SPOKEN_CTA)  # on screen: "Shop now"
    advice = " ".join(_cta_advice(inputs))
    assert "only spoken" not in advice
    hidden = with_metrics(
        inputs, on_screen_text=[{"start_s": 0.0, "end_s": 2.5, "text": "Greasy by noon?"}]
    )
    assert "the CTA is only spoken" in " ".join(_cta_advice(hidden))  # the rule still fires


def test_an_early_cta_held_to_the_last_frame_is_not_told_to_repeat() -> None:
    inputs = slow_silent_ad()  # "Order yours today" at 8 s of 40 s
    assert "repeat it in the last seconds" in " ".join(_cta_advice(inputs))
    held = with_metrics(
        inputs,
        on_screen_text=[
            *inputs.metrics["on_screen_text"],
            {"start_s": 34.0, "end_s": 40.0, "text": "Order yours today"},
        ],
    )
    advice = " ".join(_cta_advice(held))
    assert "repeat" not in advice
    assert "stays on screen to the last frame" in advice


def test_the_summary_names_the_product_and_the_audience_the_ad_addresses() -> None:
    summary = write_report(fast_cut_ad(), None).summary
    assert "It advertises GlowWash to people tired of greasy hair by noon" in summary
    assert "advertises" not in write_report(slow_silent_ad(), None).summary  # it names no product


def test_the_audience_is_taken_only_from_what_the_ad_says() -> None:
    def heard(text: str) -> str | None:
        base = fast_cut_ad()
        return audience(ReportInputs(transcript_of([(0.0, 2.0, text)]), {}, {}, [], base.source))

    assert heard("Struggling to sleep through the night?") == (
        "people struggling to sleep through the night"
    )
    assert heard("Do you hate your morning commute?") == "people who hate their morning commute"
    assert heard("If you're always on the go, this is for you.") == (
        "people who are always on the go"
    )
    assert heard("Our desks are built by hand.") is None


# --- no boilerplate: each ad's advice and summary are its own ------------------------------------

_NUMBER = re.compile(r"[-−]?\d+(?:[.,]\d+)*%?")


def _rendered(ad: text_ads.TextAd, frames_dir: Path) -> ReportInputs:
    """A silent text ad as the pipeline sees it: metrics measured from its frames, its breakdown."""
    silent = Transcript.empty("test", "no audio track", has_audio=False)
    metrics = measure(ad.path, extract_frames(ad.path, frames_dir), silent)
    return ReportInputs(silent.to_dict(), metrics, build_breakdown(metrics, silent), [], {})


def _different_ads(tmp_path: Path) -> dict[str, ReportInputs]:
    rendered = {
        name: _rendered(make(), tmp_path / name)
        for name, make in (
            ("button", text_ads.button_ad),
            ("url_end_card", text_ads.url_end_card_ad),
            ("spanish_end_card", text_ads.spanish_end_card_ad),
            ("no_cta", text_ads.no_cta_ad),
            ("spanish_offer", text_ads.spanish_offer_ad),
        )
    }
    return {
        "fast_cut": fast_cut_ad(),
        "slow_silent": slow_silent_ad(),
        "untranscribable": untranscribable_ad(),
        **rendered,
    }


def _sentences(report: Report) -> list[tuple[str, str]]:
    """(sentence, the benchmark it was judged against) for every opinion and summary sentence."""
    found = [
        (sentence, point.benchmark or "")
        for point in report.analysis_points
        if point.kind == "opinion"
        for sentence in re.split(r"(?<=[.!?])\s+", point.text)
    ]
    return found + [(sentence, "") for sentence in re.split(r"(?<=[.!?])\s+", report.summary)]


def _measured_numbers(report: Report) -> set[str]:
    """Numbers as the measured points write them ("22.4", "62%")."""
    return {
        number
        for point in report.analysis_points
        if point.kind == "measured"
        for number in _NUMBER.findall(point.text)
    }


def test_no_advice_or_summary_sentence_is_repeated_across_different_ads(tmp_path: Path) -> None:
    reports = {
        name: write_report(inputs, None) for name, inputs in _different_ads(tmp_path).items()
    }
    repeated = []
    for (first, one), (second, other) in combinations(reports.items(), 2):
        shared_values = _measured_numbers(one) & _measured_numbers(other)
        theirs = {sentence for sentence, _ in _sentences(other)}
        for sentence, benchmark in _sentences(one):
            if sentence not in theirs:
                continue
            # Allowed only where it quotes a measured value (not its benchmark's) both ads share.
            quoted = set(_NUMBER.findall(sentence)) - set(_NUMBER.findall(benchmark))
            if not quoted & shared_values:
                repeated.append(f"{first} / {second}: {sentence}")
    assert not repeated, "\n".join(repeated)
    assert len(reports) == 8  # every fixture ad was written
