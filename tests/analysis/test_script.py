"""The UGC script ready to shoot and to render: beats by role, dialogue that fits its time,
directions taken from the source ad, and a generate-video body that speaks dialogue only."""

from __future__ import annotations

from knightvision.analysis.report import write_report
from knightvision.analysis.writing.deterministic.dialogue import fit, word_budget
from knightvision.analysis.writing.deterministic.facts import Line, ad_lines
from knightvision.analysis.writing.document import ReportInputs
from knightvision.video.models import DEFAULT_MODELS, ModelRegistry
from knightvision.video.validation import parse_video_request
from tests.fixtures.ad_reports import fast_cut_ad, slow_silent_ad, transcript_of, with_metrics


def _beats(inputs: ReportInputs) -> dict[str, dict[str, object]]:
    result = write_report(inputs, None).to_result()
    return {beat["beat"]: beat for beat in result["ugc_script_beats"]}


def test_a_line_that_presents_the_product_is_never_the_problem() -> None:
    inputs = fast_cut_ad()
    transcript = transcript_of(
        [
            (0.3, 2.4, "Tired of greasy hair by noon?"),
            (2.6, 6.0, "GlowWash cleans oily hair in one wash."),
            (11.5, 15.0, "Over 20,000 five-star reviews."),
            (19.5, 21.0, "Tap shop now."),
        ]
    )
    beats = _beats(ReportInputs(transcript, inputs.metrics, inputs.breakdown, [], inputs.source))
    assert "GlowWash" not in str(beats["problem"]["voiceover"])
    assert "GlowWash cleans oily hair in one wash" in str(beats["solution"]["voiceover"])


def test_a_line_too_long_for_its_beat_is_cut_at_a_clause_not_mid_thought() -> None:
    line = Line(
        0.0, "This serum changed my mornings, and honestly my whole routine feels new.", True
    )
    said = fit([line], 3.0)
    assert said == "This serum changed my mornings."
    assert len(said.split()) <= word_budget(3.0)


def test_directions_follow_how_the_source_ad_was_shot() -> None:
    face_ad, faceless_ad = _beats(fast_cut_ad()), _beats(slow_silent_ad())
    assert "Face to camera" in str(face_ad["hook"]["direction"])
    assert "close-up of the product" in str(faceless_ad["hook"]["direction"])
    assert "talks to camera" in str(face_ad["solution"]["direction"])
    assert "Close-ups of the product" in str(faceless_ad["solution"]["direction"])
    assert "cut about every 2 s" in str(face_ad["solution"]["direction"])  # 2.04 s shots
    assert "cut about" not in str(faceless_ad["solution"]["direction"])  # 10 s shots
    for kind in ("hook", "problem", "solution", "proof", "cta"):
        assert face_ad[kind]["direction"] != faceless_ad[kind]["direction"], kind


def test_a_cta_held_on_screen_to_the_end_is_directed_as_an_end_card() -> None:
    inputs = slow_silent_ad()
    cta = {**inputs.metrics["call_to_action"], "to_last_frame": True}
    beats = _beats(with_metrics(inputs, call_to_action=cta))
    assert "held to the last frame" in str(beats["cta"]["direction"])
    assert "held to the last frame" not in str(_beats(inputs)["cta"]["direction"])


def test_the_beats_become_a_generate_video_body_that_speaks_dialogue_only() -> None:
    for inputs in (fast_cut_ad(), slow_silent_ad()):
        result = write_report(inputs, None).to_result()
        body = result["ugc_video_request"]
        request = parse_video_request(body, ModelRegistry(DEFAULT_MODELS))
        assert (request.model.name, request.duration) == ("local-storyboard", body["duration"])
        assert request.aspect_ratio == body["aspect_ratio"]
        for beat in result["ugc_script_beats"]:
            assert beat["voiceover"] in body["prompt"]
            assert beat["direction"] not in body["prompt"]
        assert "UGC-style" not in body["prompt"] and "seconds:" not in body["prompt"]


def test_the_measured_product_name_drives_labels_and_summary() -> None:
    inputs = fast_cut_ad()
    offer = {
        "product": {"type": "product", "value": "glowwash shampoo", "text": "GlowWash shampoo"}
    }
    report = write_report(with_metrics(inputs, offer=offer), None)
    assert "It advertises GlowWash shampoo to people tired of greasy hair by noon" in report.summary


def test_a_caption_that_writes_out_a_spoken_line_counts_once() -> None:
    inputs = fast_cut_ad()
    caption = {"start_s": 11.5, "end_s": 15.0, "text": "Over twenty thousand five-star reviews"}
    shown = with_metrics(inputs, on_screen_text=[*inputs.metrics["on_screen_text"], caption])
    assert caption["text"] not in [line.text for line in ad_lines(shown)]
    beats = _beats(shown)
    assert beats["proof"]["voiceover"] == "Over 20,000 five-star reviews"
    assert all("twenty thousand" not in str(beat["voiceover"]) for beat in beats.values())
    unrelated = {**caption, "text": "Dermatologist approved formula"}
    other = with_metrics(inputs, on_screen_text=[*inputs.metrics["on_screen_text"], unrelated])
    assert "Dermatologist approved formula" in [line.text for line in ad_lines(other)]
