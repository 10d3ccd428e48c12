"""The LLM writer through the real HTTP client against a local fake OpenAI-compatible server:
what it sends, what it accepts, and that every failure falls back to the deterministic text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from knightvision.analysis.report import write_report
from knightvision.analysis.writing import deterministic
from knightvision.analysis.writing.document import Report, ReportInputs
from knightvision.analysis.writing.llm import parse_reply
from knightvision.providers.llm.openai_compat import OpenAICompatChat, OpenAICompatConfig
from tests.fakes.openai_chat import FakeOpenAIChat, Reply, completion, error_body
from tests.fixtures.ad_reports import assert_well_formed, fast_cut_ad, slow_silent_ad
from tests.fixtures.llm_replies import LLM, MODEL, beat, chat, good_reply, reply_with


@pytest.fixture
def server() -> Iterator[FakeOpenAIChat]:
    with FakeOpenAIChat() as fake:
        yield fake


@pytest.fixture
def ad(tmp_path: Path) -> ReportInputs:
    """The fast-cut ad with three real JPEG frames."""
    inputs = fast_cut_ad()
    frames = []
    for index, time_s in enumerate((0.5, 9.0, 20.0)):
        path = tmp_path / f"frame{index}.jpg"
        Image.new("RGB", (36, 64), (40 * index, 90, 160)).save(path, "JPEG")
        frames.append({"time_s": time_s, "path": str(path)})
    return ReportInputs(inputs.transcript, inputs.metrics, inputs.breakdown, frames, inputs.source)


def deterministic_report(inputs: ReportInputs) -> Report:
    return deterministic.write(inputs)


def test_success_uses_the_models_text_for_every_part(
    server: FakeOpenAIChat, ad: ReportInputs
) -> None:
    server.script(reply_with(good_reply()))
    report = write_report(ad, chat(server))
    result = assert_well_formed(report)
    assert report.summary.startswith("A 22.4 s vertical TikTok ad for GlowWash")
    assert report.ugc_script.startswith("UGC-style vertical video, 20 seconds")
    assert [b.beat for b in report.ugc_script_beats] == [
        "hook",
        "problem",
        "solution",
        "proof",
        "cta",
    ]
    assert report.ugc_script_beats[-1].end_s == 20
    assert (
        result["engine"]["summary"]
        == result["engine"]["analysis"]
        == result["engine"]["ugc_script"]
        == LLM
    )
    assert result["engine"]["analysis_points"] == "deterministic-v1"
    # Measured points and the transcription stay ours.
    assert report.analysis_points == deterministic_report(ad).analysis_points
    assert result["transcription"].startswith("Tired of greasy hair")


def test_the_request_carries_model_transcript_metrics_and_frames(
    server: FakeOpenAIChat, ad: ReportInputs
) -> None:
    server.script(reply_with(good_reply()))
    write_report(ad, chat(server))
    [request] = server.requests
    body = request.body
    assert body["model"] == MODEL
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert (
        system["role"] == "system"
        and "JSON" in system["content"]
        and "ugc_script_beats" in system["content"]
    )
    texts = [part["text"] for part in user["content"] if part["type"] == "text"]
    images = [part["image_url"]["url"] for part in user["content"] if part["type"] == "image_url"]
    context = json.loads(texts[0].split("\n", 1)[1])
    assert context["transcript"]["text"].startswith("Tired of greasy hair by noon?")
    assert context["metrics"]["first_cut_s"] == 1.2
    assert context["breakdown"]["hook"]["said"].startswith("Tired of greasy hair")
    assert context["script"] == {"length_s": 22, "aspect_ratio": "9:16"}
    assert context["frames_attached"] == [0.5, 9.0, 20.0]
    assert {"id": "first_cut", "text": "first cut at 1.2 s"} in context["measured_findings"]
    assert texts[1:] == ["Frame at 0.5 s:", "Frame at 9.0 s:", "Frame at 20.0 s:"]
    assert len(images) == 3 and all(url.startswith("data:image/jpeg;base64,/9j/") for url in images)


def test_a_text_only_model_gets_no_frames(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    server.script(reply_with(good_reply()))
    write_report(ad, chat(server, vision=False))
    user = server.requests[0].body["messages"][1]
    assert all(part["type"] == "text" for part in user["content"])
    assert json.loads(user["content"][0]["text"].split("\n", 1)[1])["frames_attached"] == []


def test_malformed_json_falls_back_entirely(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    server.script(reply_with('{"summary": "A 22.4 s ad", "analysis": '))
    report = write_report(ad, chat(server))
    expected = deterministic_report(ad)
    assert report.summary == expected.summary and report.analysis == expected.analysis
    assert report.ugc_script == expected.ugc_script
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part] == "deterministic-v1 (llm output invalid: reply is not JSON)"


def test_wrong_schema_falls_back_part_by_part(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    beats = good_reply()["ugc_script_beats"]
    beats[2] = {**beats[2], "beat": "testimonial"}
    server.script(reply_with(good_reply(summary=42, ugc_script_beats=beats)))
    report = write_report(ad, chat(server))
    expected = deterministic_report(ad)
    assert report.summary == expected.summary
    assert (
        report.engine["summary"]
        == "deterministic-v1 (llm output invalid: summary: Input should be a valid string)"
    )
    assert (
        report.ugc_script == expected.ugc_script
        and report.ugc_script_beats == expected.ugc_script_beats
    )
    assert report.engine["ugc_script"].startswith(
        "deterministic-v1 (llm output invalid: ugc_script_beats.2.beat:"
    )
    assert report.engine["analysis"] == LLM and "(measured: first_cut)" in report.analysis


@pytest.mark.parametrize(
    ("changes", "part", "reason"),
    [
        (
            {"ugc_script": "x" * 2001},
            "ugc_script",
            "ugc_script: String should have at most 2000 characters",
        ),
        (
            {"analysis": "Hook is fine. Pacing is fine. Captions are fine. Sound is fine."},
            "analysis",
            "no (measured)/(opinion) labels (D18)",
        ),
        (
            {
                "summary": "This 45-second ad for GlowWash walks through greasy hair and ends on "
                "an offer."
            },
            "summary",
            "says the ad is 45 s long; measured 22.4 s",
        ),
        (
            {"analysis": "Speech: 210 wpm, fast (measured)\nHook: fine (opinion)"},
            "analysis",
            "says 210 words per minute; measured 152",
        ),
        (
            {"analysis": "Audio: -9 LUFS, loud (measured)\nHook: fine (opinion)"},
            "analysis",
            "says -9 LUFS; measured -15.2",
        ),
        (
            {"analysis": "Pacing: 25 shots in 22 s (measured)\nHook: fine (opinion)"},
            "analysis",
            "says 25 shots/cuts; measured [10, 11]",
        ),
    ],
)
def test_outputs_that_break_limits_or_contradict_metrics_fall_back(
    server: FakeOpenAIChat, ad: ReportInputs, changes: dict[str, Any], part: str, reason: str
) -> None:
    server.script(reply_with(good_reply(**changes)))
    report = write_report(ad, chat(server))
    assert report.engine[part] == f"deterministic-v1 (llm output invalid: {reason})"
    assert getattr(report, part) == getattr(deterministic_report(ad), part)
    assert all(
        report.engine[other] == LLM
        for other in ("summary", "analysis", "ugc_script")
        if other != part
    )


@pytest.mark.parametrize(
    ("beats_change", "reason"),
    [
        (lambda b: [b[1], b[0], *b[2:]], "beats must open with hook and close with cta"),
        (
            lambda b: [b[0], {**b[1], "start_s": 1.0}, *b[2:]],
            "problem at 1 s overlaps hook ending at 3 s",
        ),
        (lambda b: [*b[:4], {**b[4], "end_s": 16.0}], "cta ends at 16 s, not after its start 17 s"),
        (
            lambda b: [*b[:4], {**b[4], "end_s": "20"}],
            "ugc_script_beats.4.end_s: Input should be a valid number",
        ),
    ],
)
def test_beats_need_the_allowed_kinds_and_sane_timings(
    server: FakeOpenAIChat, ad: ReportInputs, beats_change: Any, reason: str
) -> None:
    server.script(
        reply_with(good_reply(ugc_script_beats=beats_change(good_reply()["ugc_script_beats"])))
    )
    report = write_report(ad, chat(server))
    assert reason in report.engine["ugc_script"]
    assert report.ugc_script_beats == deterministic_report(ad).ugc_script_beats


def test_speech_claims_about_an_ad_without_speech_are_rejected(server: FakeOpenAIChat) -> None:
    silent = slow_silent_ad()
    server.script(
        reply_with(
            good_reply(
                summary="A 40-second landscape Facebook ad for Oakline handmade oak desks, told in "
                "on-screen text.",
                analysis="Speech: 150 wpm (measured)\nHook: first cut at 9.5 s (measured)",
                # A script of this ad's own lines, so only the analysis is at fault.
                ugc_script="UGC-style 16:9 video, 20 seconds, in the ad's own words.",
                ugc_script_beats=[
                    beat("hook", 0, 3, "Handmade oak desks."),
                    beat("problem", 3, 7, "Built to last."),
                    beat("solution", 7, 12, "Handmade oak desks."),
                    beat("proof", 12, 17, "Built to last 30 years."),
                    beat("cta", 17, 20, "Order yours today."),
                ],
            )
        )
    )
    report = write_report(silent, chat(server))
    assert report.engine["summary"] == LLM
    assert report.engine["analysis"] == (
        "deterministic-v1 (llm output invalid: states a speaking rate (150 wpm) but no speech rate "
        "was measured)"
    )


def test_401_falls_back_without_leaking_the_upstream_message(
    server: FakeOpenAIChat, ad: ReportInputs
) -> None:
    server.script(Reply(401, error_body("Incorrect API key provided: sk-te****test")))
    report = write_report(ad, chat(server))
    assert len(server.requests) == 1
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part] == "deterministic-v1 (llm failed: llm_auth)"
    assert "sk-te" not in json.dumps(report.to_result())
    assert report.summary == deterministic_report(ad).summary


def test_429_then_success_honours_retry_after(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    server.script(
        Reply(429, error_body("Rate limit reached"), {"Retry-After": "1"}), reply_with(good_reply())
    )
    waits: list[float] = []
    model = OpenAICompatChat(
        OpenAICompatConfig(base_url=server.base_url, model=MODEL, vision=True), sleep=waits.append
    )
    report = write_report(ad, model)
    assert waits == [1.0] and len(server.requests) == 2
    assert report.engine["summary"] == LLM


def test_500s_exhausted_fall_back(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    server.script(Reply(500, error_body("The server had an error", "server_error")))
    report = write_report(ad, chat(server, max_attempts=3))
    assert len(server.requests) == 3
    assert report.engine["analysis"] == "deterministic-v1 (llm failed: llm_upstream)"
    assert report.analysis == deterministic_report(ad).analysis


def test_timeout_falls_back_within_the_deadline(server: FakeOpenAIChat, ad: ReportInputs) -> None:
    server.script(Reply(body=completion("{}"), delay=5))
    started = time.monotonic()
    report = write_report(ad, chat(server), timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert report.engine["ugc_script"] == "deterministic-v1 (llm failed: llm_timeout)"
    assert_well_formed(report)


def test_replies_wrapped_in_a_code_fence_or_prose_are_read() -> None:
    body = json.dumps(good_reply())
    assert parse_reply(f"```json\n{body}\n```")["summary"].startswith("A 22.4 s")
    assert (
        parse_reply(f"Here you go:\n{body}\nHope that helps.")["ugc_script_beats"][0]["beat"]
        == "hook"
    )
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_reply("[1, 2]")


def test_an_adapter_bug_still_leaves_the_deterministic_report(ad: ReportInputs) -> None:
    class Broken:
        model, vision = "broken", False

        def complete(
            self, messages: Any, *, response_format_json: bool, timeout: float, schema: Any = None
        ) -> str:
            raise RuntimeError("bug")

    report = write_report(ad, Broken())
    assert report.engine["summary"] == "deterministic-v1 (llm failed: llm_error)"
    assert report.summary == deterministic_report(ad).summary


def test_one_label_does_not_carry_unlabelled_claims(
    server: FakeOpenAIChat, ad: ReportInputs
) -> None:
    analysis = (
        "Hook: strong (opinion)\nThe product is the best on the market\nSpeech: 152 wpm (measured)"
    )
    server.script(reply_with(good_reply(analysis=analysis)))
    report = write_report(ad, chat(server))
    assert report.engine["analysis"].startswith(
        "deterministic-v1 (llm output invalid: a line without a (measured)/(opinion) label"
    )
    assert report.engine["summary"] == LLM


def test_the_exchange_is_kept_for_operators_and_never_shown_to_partners(
    server: FakeOpenAIChat, ad: ReportInputs
) -> None:
    server.script(reply_with(good_reply()))
    report = write_report(ad, chat(server))
    exchange = report.llm_exchange
    assert exchange is not None and exchange["model"] == MODEL
    assert json.loads(exchange["reply"])["summary"] == good_reply()["summary"]
    assert exchange["messages"][0]["role"] == "system"
    images = [part for part in exchange["messages"][1]["content"] if "image" in part]
    assert [part["image"] for part in images] == [frame["path"] for frame in ad.frames]
    assert "llm_exchange" not in report.to_result() and "reply" not in json.dumps(
        report.to_result()
    )
