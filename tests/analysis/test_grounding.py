"""The fact checker against a local OpenAI-compatible server that invents content: anything the
ad and its measurements do not support sends the whole reply back to the deterministic text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from knightvision.analysis.report import write_report
from knightvision.analysis.writing import deterministic
from tests.fakes.openai_chat import FakeOpenAIChat, Reply, completion
from tests.fixtures.ad_reports import assert_well_formed, fast_cut_ad, slow_silent_ad
from tests.fixtures.llm_replies import LLM, beat, chat, good_reply, reply_with


@pytest.fixture
def server() -> Iterator[FakeOpenAIChat]:
    with FakeOpenAIChat() as fake:
        yield fake


def desk_reply(**changes: Any) -> dict[str, Any]:
    """A grounded reply for the silent, faceless oak-desk ad."""
    reply = {
        "summary": "A 40-second landscape Facebook ad for Oakline handmade oak desks, told in "
        "on-screen text.",
        "analysis": "Hook: first cut at 9.5 s (measured: first_cut)\n"
        "Pacing: long shots suit a calm product (opinion)",
        "ugc_script": "UGC-style 16:9 video, 20 seconds, in the ad's own words.",
        "ugc_script_beats": [
            beat("hook", 0, 3, "Handmade oak desks."),
            beat("problem", 3, 7, "Built to last."),
            beat("solution", 7, 12, "Handmade oak desks."),
            beat("proof", 12, 17, "Built to last 30 years."),
            beat("cta", 17, 20, "Order yours today."),
        ],
    }
    reply.update(changes)
    return reply


def test_a_grounded_reply_stands(server: FakeOpenAIChat) -> None:
    server.script(reply_with(desk_reply()))
    report = write_report(slow_silent_ad(), chat(server))
    assert {report.engine[part] for part in ("summary", "analysis", "ugc_script")} == {LLM}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"summary": "An oak desk ad offering 50% off every desk."}, "'50%' is not in the ad"),
        ({"analysis": "Proof: trusted by 1 million users (measured)"}, "'1 million'"),
        (
            {"analysis": "Hook: first cut at 9.5 s (measured)\nPacing: calm (opinion: pacing)"},
            "the measured line 'Hook: first cut at 9.5 s (measured)' cites no finding id",
        ),
        (
            {"analysis": "Hook: first cut at 9.5 s (measured: hook_cut)"},
            "cites 'hook_cut', which is not a measured finding's id",
        ),
        (  # 40.0 s is measured, but not by the finding the line cites
            {"analysis": "Hook: first cut at 40 s (measured: first_cut)"},
            "'40' in 'Hook: first cut at 40 s (measured: first_cut)' is not in the finding "
            "first_cut",
        ),
        (
            {"analysis": "Pacing: long shots suit a calm product (opinion: tempo)"},
            "cites 'tempo', which is not a measured finding's id",
        ),
        ({"summary": "Oak desks; use code OAK20 at checkout."}, "promo code 'OAK20'"),
        ({"summary": "Oak desks sold at oakline-desks.com today."}, "web address"),
        (
            {"analysis": "Hook: a presenter speaks to camera in the first second (opinion)"},
            "no face was measured",
        ),
        ({"summary": 'The ad promises "the last desk you will ever buy".'}, "is not a line"),
        (
            {
                "ugc_script_beats": [
                    beat("hook", 0, 3, "Handmade oak desks."),
                    beat("solution", 3, 30, "Handmade oak desks."),
                    beat("cta", 30, 45, "Order yours today."),
                ]
            },
            "says 20 s but the beats run to 45 s",
        ),
        (
            {
                "ugc_script_beats": [
                    beat("hook", 0, 3, "Handmade oak desks."),
                    beat("solution", 5, 17, "Handmade oak desks."),
                    beat("cta", 17, 20, "Order yours today."),
                ]
            },
            "a gap or overlap between 3 s and 5 s",
        ),
        (
            {
                "ugc_script_beats": [
                    beat("hook", 0, 3, "Built to last 30 years " * 4),
                    *desk_reply()["ugc_script_beats"][1:],
                ]
            },
            "the hook line does not fit its 3 s",
        ),
        (
            {
                "ugc_script_beats": [
                    *desk_reply()["ugc_script_beats"][:4],
                    beat("cta", 17, 20, "Get 50% off now."),
                ]
            },
            "'50%' is not in the ad",
        ),
    ],
)
def test_invented_content_sends_the_whole_reply_back(
    server: FakeOpenAIChat, changes: dict[str, Any], reason: str
) -> None:
    ad = slow_silent_ad()
    server.script(reply_with(desk_reply(**changes)))  # the repair answers the same again
    report = write_report(ad, chat(server))
    assert len(server.requests) == 2
    expected = deterministic.write(ad)
    assert_well_formed(report)
    assert (report.summary, report.analysis, report.ugc_script) == (
        expected.summary,
        expected.analysis,
        expected.ugc_script,
    )
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part].startswith(
            "deterministic-v1 (llm output ungrounded after repair: "
        )
        assert reason in report.engine[part], report.engine[part]


def test_a_repaired_reply_is_accepted_and_says_it_was_repaired(server: FakeOpenAIChat) -> None:
    ad = slow_silent_ad()
    invented = desk_reply(summary="An oak desk ad offering 50% off every desk.")
    server.script(reply_with(invented), reply_with(desk_reply()))
    report = write_report(ad, chat(server))
    reason = "summary: '50%' is not in the ad or its measurements"
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part] == f"{LLM} (repaired: {reason})"
    assert report.summary == desk_reply()["summary"]
    # The follow-up is the first exchange, the model's refused reply, and the checker's reason.
    first, repair = (request.body for request in server.requests)
    assert repair["messages"][:2] == first["messages"]
    assert repair["messages"][2] == {"role": "assistant", "content": json.dumps(invented)}
    assert repair["messages"][3]["role"] == "user" and reason in repair["messages"][3]["content"]
    assert repair["response_format"] == first["response_format"]
    # Operators see both rounds in the job's checkpoint.
    exchange = report.llm_exchange
    assert exchange is not None
    assert json.loads(exchange["reply"]) == invented
    assert exchange["repair"]["reasons"] == [reason]
    assert json.loads(exchange["repair"]["reply"]) == desk_reply()
    assert reason in exchange["repair"]["messages"][0]["content"]


def test_every_reason_is_quoted_to_the_model(server: FakeOpenAIChat) -> None:
    server.script(
        reply_with(
            desk_reply(
                summary="An oak desk ad offering 50% off; use code OAK20.",
                analysis="Hook: first cut at 9.5 s (measured)\nPacing: calm (opinion)",
            )
        ),
        reply_with(desk_reply()),
    )
    report = write_report(slow_silent_ad(), chat(server))
    follow_up = server.requests[1].body["messages"][3]["content"]
    assert "'50%'" in follow_up and "promo code 'OAK20'" in follow_up
    assert "cites no finding id" in follow_up
    assert report.engine["analysis"].startswith(f"{LLM} (repaired: summary: '50%'")


def test_a_repair_that_times_out_leaves_the_deterministic_text_within_the_budget(
    server: FakeOpenAIChat,
) -> None:
    ad = slow_silent_ad()
    invented = desk_reply(summary="An oak desk ad offering 50% off every desk.")
    server.script(reply_with(invented), Reply(body=completion("{}"), delay=5))
    started = time.monotonic()
    report = write_report(ad, chat(server), timeout=1.0)
    assert time.monotonic() - started < 3.0  # one budget for both calls, not one each
    assert len(server.requests) == 2
    expected = deterministic.write(ad)
    assert (report.summary, report.analysis) == (expected.summary, expected.analysis)
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part] == (
            "deterministic-v1 (llm output ungrounded: summary: '50%' is not in the ad or its "
            "measurements; repair failed: llm_timeout)"
        )
    assert report.llm_exchange is not None
    assert report.llm_exchange["repair"]["error"] == "llm_timeout"


def test_numbers_the_ad_states_may_be_written_the_way_people_write_them(
    server: FakeOpenAIChat,
) -> None:
    server.script(
        reply_with(
            good_reply(
                summary="A 22.4 s TikTok ad: 20000 five-star reviews and 50% off, cut every 2 s."
            )
        )
    )
    report = write_report(fast_cut_ad(), chat(server))
    assert report.engine["summary"] == LLM, report.engine


def test_a_measured_line_may_cite_several_findings_and_round_their_numbers(
    server: FakeOpenAIChat,
) -> None:
    analysis = (
        "Hook: first cut at 9.5 s, then 4 shots of 10 s on average (measured: first_cut, pacing)\n"
        "Audio: -22 LUFS is quiet for feeds (opinion: loudness)"
    )
    server.script(reply_with(desk_reply(analysis=analysis)))
    report = write_report(slow_silent_ad(), chat(server))
    assert report.engine["analysis"] == LLM and len(server.requests) == 1
