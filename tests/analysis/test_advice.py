"""Advice that never contradicts the measurements, and a summary that names what is sold to whom."""

from __future__ import annotations

from knightvision.analysis.report import write_report
from knightvision.analysis.writing.deterministic.facts import audience
from knightvision.analysis.writing.document import ReportInputs
from tests.fixtures.ad_reports import fast_cut_ad, slow_silent_ad, transcript_of, with_metrics

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
