"""The transcript reconciled with the on-screen text: each rule on hand-built timings, and the
demo's sample ad (rendered, transcribed and read here) end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from knightvision.analysis.breakdown import build_breakdown
from knightvision.analysis.metrics.cta import find_call_to_action
from knightvision.analysis.reconcile import reconcile, reconcile_metrics, sentences, similarity
from knightvision.analysis.report import ReportInputs, write_report
from knightvision.analysis.sample_ad import SAMPLE_AD_SCRIPT, seed_sample_ad
from knightvision.providers.transcription.port import Transcript
from tests.fixtures.wer import word_error_rate


def _words(*timed: tuple[str, float, float]) -> list[dict[str, Any]]:
    return [{"word": w, "start": a, "end": b, "probability": 0.9} for w, a, b in timed]


def _transcript(words: list[dict[str, Any]]) -> Transcript:
    return Transcript(
        text=" ".join(w["word"] for w in words),
        language="en",
        language_probability=None,
        segments=[
            {
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "text": " ".join(w["word"] for w in words),
                "avg_logprob": -0.3,
                "low_confidence": False,
            }
        ],
        words=words,
        engine="test",
    )


def _span(text: str, start: float, end: float) -> dict[str, Any]:
    return {"start_s": start, "end_s": end, "text": text}


# ------------------------------------------------------------------------------- the rules

CHOP = _words(("chop", 11.2, 11.5), ("now", 11.5, 11.8), ("and", 11.8, 12.0), ("save", 12.0, 12.4))


def test_a_near_agreeing_heard_word_takes_the_screens_reading() -> None:
    span = _span("SHOP NOW and save", 11.0, 14.0)
    reconciled, corrections = reconcile(_transcript(CHOP), [span])
    assert reconciled.text == "Shop now and save."
    assert corrections == [
        {
            "time_s": 11.2,
            "heard": "chop",
            "corrected": "shop",
            "evidence": {
                "on_screen_text": "SHOP NOW and save",
                "start_s": 11.0,
                "end_s": 14.0,
                "similarity": 0.75,
            },
        }
    ]
    assert reconciled.words[0]["heard"] == "chop"
    assert (reconciled.words[0]["start"], reconciled.words[0]["end"]) == (11.2, 11.5)


def test_the_last_word_of_the_sentence_before_is_not_part_of_the_correction() -> None:
    """The caption appears as the sentence before ends: "year." falls in its window and the
    alignment pairs "year. chop" with "Shop"; only "chop" is the misheard word."""
    heard = [*_words(("this", 10.2, 10.5), ("year.", 10.5, 10.9)), *CHOP]
    reconciled, corrections = reconcile(_transcript(heard), [_span("Shop now and save", 11.2, 14)])
    assert reconciled.text == "This year. Shop now and save"
    assert [(c["heard"], c["corrected"], c["time_s"]) for c in corrections] == [
        ("chop", "Shop", 11.2)
    ]


def test_similar_text_far_away_in_time_is_not_used() -> None:
    reconciled, corrections = reconcile(_transcript(CHOP), [_span("Shop now and save", 2.0, 5.0)])
    assert corrections == [] and reconciled.text.startswith("Chop now")


def test_dissimilar_text_is_never_substituted() -> None:
    spans = [  # chop/stop 0.5, chop/order 0.0, now/new 0.67 (and no agreeing word beside it)
        _span("Stop now and save", 11.0, 14.0),
        _span("Order now and save", 11.0, 14.0),
        _span("new", 11.0, 14.0),
    ]
    reconciled, corrections = reconcile(_transcript(CHOP), spans)
    assert corrections == [] and reconciled.text == "Chop now and save."


def test_words_that_already_agree_are_untouched() -> None:
    heard = _words(("shop", 1.0, 1.3), ("now", 1.3, 1.6), ("brightbrew", 1.6, 2.2))
    reconciled, corrections = reconcile(_transcript(heard), [_span("SHOP NOW! BrightBrew", 1, 3)])
    assert corrections == []
    assert [w["word"] for w in reconciled.words] == ["Shop", "now", "brightbrew."]
    assert all("heard" not in w for w in reconciled.words)


def test_a_word_the_screen_agrees_with_is_not_rewritten_toward_other_text() -> None:
    heard = _words(("hot", 1.0, 1.3), ("coffee", 1.3, 1.8), ("daily", 1.8, 2.2))
    spans = [_span("hot coffee daily", 1, 3), _span("hot toffee daily", 1, 3)]
    reconciled, corrections = reconcile(_transcript(heard), spans)
    assert corrections == [] and reconciled.text == "Hot coffee daily."
    _, corrections = reconcile(_transcript(heard), spans[1:])  # alone, toffee would be used
    assert [c["corrected"] for c in corrections] == ["toffee"]


def test_a_run_split_by_the_ear_is_joined_as_the_screen_spells_it() -> None:
    heard = _words(("bright", 3.2, 3.5), ("brew", 3.5, 3.8), ("is", 3.8, 4.0), ("smooth", 4, 4.4))
    reconciled, corrections = reconcile(_transcript(heard), [_span("Brightbrew is smooth", 3, 7)])
    assert reconciled.text == "Brightbrew is smooth."
    assert [(c["heard"], c["corrected"]) for c in corrections] == [("bright brew", "Brightbrew")]
    assert (reconciled.words[0]["start"], reconciled.words[0]["end"]) == (3.2, 3.8)


def test_longer_runs_than_a_few_words_are_never_rewritten() -> None:
    said = ["try", "super", "duper", "mega", "blend"]
    heard = _words(*[(w, 1 + i * 0.3, 1.3 + i * 0.3) for i, w in enumerate(said)])
    shown = "try superr duperr megaa blendd"  # four words to rewrite, 0.82 alike
    _, corrections = reconcile(_transcript(heard), [_span(shown, 1, 3)])
    assert corrections == []
    _, corrections = reconcile(_transcript(heard[:4]), [_span(shown.rsplit(" ", 1)[0], 1, 3)])
    assert [c["corrected"] for c in corrections] == ["superr duperr megaa"]


def test_similarity_ignores_case_spaces_and_punctuation() -> None:
    assert similarity("bright brew", "Brightbrew!") == 1.0
    assert similarity("chop", "Shop") == 0.75
    assert similarity("now", "new") < 0.7


# ------------------------------------------------------------------------------- sentences


def test_sentences_follow_the_words_punctuation() -> None:
    heard = _words(
        ("Tired", 0.0, 0.3), ("of", 0.3, 0.4), ("it?", 0.4, 0.6),  # no pause: punctuation rules
        ("Shop", 0.6, 0.9), ("now,", 0.9, 1.2), ("then", 2.5, 2.8), ("relax.", 2.8, 3.1),
    )  # fmt: skip
    built = sentences(heard)
    assert [s["text"] for s in built] == ["Tired of it?", "Shop now, then relax."]
    assert [(s["start"], s["end"], s["boundary"]) for s in built] == [
        (0.0, 0.6, "punctuation"),
        (0.6, 3.1, "punctuation"),
    ]


def test_sentences_without_punctuation_end_at_pauses() -> None:
    heard = _words(
        ("over", 7.1, 7.4), ("10", 7.4, 7.7), (",000", 7.7, 8.1), ("switched", 8.1, 8.6),
        ("shop", 9.8, 10.1), ("now", 10.1, 10.4),
    )  # fmt: skip
    built = sentences(heard)
    assert [s["text"] for s in built] == ["Over 10,000 switched.", "Shop now."]
    assert [s["boundary"] for s in built] == ["pause", "pause"]


def test_a_cta_line_does_not_carry_the_previous_sentence() -> None:
    heard = _words(
        ("customers", 8.4, 8.8), ("switched", 8.8, 9.3), ("this", 9.3, 9.6), ("year", 9.6, 9.9),
        ("shop", 11.1, 11.4), ("now", 11.4, 11.8), ("and", 11.8, 12.0), ("save", 12.0, 12.4),
    )  # fmt: skip
    raw = _transcript(heard)
    before = find_call_to_action(raw, [], 14.0)
    assert before is not None and "year" in before["text"]  # what lines from raw words did
    reconciled, _ = reconcile(raw, [])
    cta = find_call_to_action(reconciled, [], 14.0)
    assert cta is not None and cta["text"] == "Shop now and save." and cta["time_s"] == 11.1


# ------------------------------------------------------------------------------- the sample ad


@pytest.fixture(scope="module")
def sample_ad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's sample ad through the analysis stages, the transcript reconciled."""
    from knightvision.analysis.metrics import measure
    from knightvision.media.frames import extract_frames
    from knightvision.providers.transcription.local_whisper import LocalWhisperTranscriber

    root = tmp_path_factory.mktemp("sample-ad")
    video = Path(seed_sample_ad(root / "cache").path)
    frames = extract_frames(video, root / "frames")
    raw = LocalWhisperTranscriber().transcribe(video).to_dict()
    metrics = measure(video, frames, raw)
    transcript = reconcile_metrics(metrics, raw)
    breakdown = build_breakdown(metrics, transcript)
    report = write_report(
        ReportInputs(
            transcript=transcript, metrics=metrics, breakdown=breakdown, frames=[], source={}
        ),
        None,
    ).to_result()
    return {"raw": raw, "transcript": transcript, "metrics": metrics, "report": report}


def test_the_sample_ad_names_its_brand_as_shown_with_the_correction_listed(
    sample_ad: dict[str, Any],
) -> None:
    """Speech recognition cannot know the invented brand "Brightbrew" and hears two words; the
    caption on screen while it is said spells it, and the transcript takes that spelling."""
    metrics, report = sample_ad["metrics"], sample_ad["report"]
    brand = [c for c in metrics["transcript_corrections"] if c["corrected"] == "Brightbrew"]
    assert len(brand) == 1, metrics["transcript_corrections"]
    assert brand[0]["heard"] != "Brightbrew"
    assert "Brightbrew" in brand[0]["evidence"]["on_screen_text"]
    evidence = brand[0]["evidence"]
    assert evidence["start_s"] - 0.5 <= brand[0]["time_s"] <= evidence["end_s"]
    for correction in metrics["transcript_corrections"]:  # every one rests on the screen's words
        assert correction["corrected"] in correction["evidence"]["on_screen_text"], correction
    assert metrics["transcript_source"] == "asr_reconciled_with_screen"
    assert "Brightbrew cold brew" in report["transcription"]
    assert "Bright brew" not in report["summary"] + report["ugc_script"]
    assert metrics["transcript_raw"] == sample_ad["raw"]["text"]
    assert "Shop now and get your first box free." in report["transcription"]
    for text in (report["transcription"], report["summary"], report["ugc_script"]):
        assert "chop" not in text.lower()
    cta = metrics["call_to_action"]
    assert cta["phrase"] == "shop now" and cta["sources"] == ["speech", "overlay"]
    assert cta["text"] == "Shop now and get your first box free."


def test_the_sample_ad_sentences_are_whole(sample_ad: dict[str, Any]) -> None:
    said = [s["text"] for s in sample_ad["metrics"]["transcript_sentences"]]
    script = re.split(r"(?<=[.?!])\s+", SAMPLE_AD_SCRIPT)
    assert len(said) == len(script)
    assert all(s[:1].isupper() and s[-1] in ".?!" for s in said), said
    assert said[-1] == script[-1]


def test_the_sample_ad_word_error_rate(sample_ad: dict[str, Any]) -> None:
    raw = word_error_rate(SAMPLE_AD_SCRIPT, sample_ad["raw"]["text"])
    reconciled = word_error_rate(SAMPLE_AD_SCRIPT, sample_ad["transcript"]["text"])
    print(f"sample ad word error rate: ASR {raw:.3f}, reconciled {reconciled:.3f}")
    assert reconciled < raw
    # left: "10,000" for "ten thousand", the same number written in digits (2 word edits)
    assert reconciled <= 2 / len(SAMPLE_AD_SCRIPT.split())
