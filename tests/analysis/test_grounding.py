"""The fact checker against a local OpenAI-compatible server that invents content: anything the
ad and its measurements do not support sends the whole reply back to the deterministic text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from knightvision.analysis.report import write_report
from knightvision.analysis.writing import deterministic
from tests.fakes.openai_chat import FakeOpenAIChat
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
        "analysis": "Hook: first cut at 9.5 s (measured)\nPacing: long shots suit a calm "
        "product (opinion)",
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
    server.script(reply_with(desk_reply(**changes)))
    report = write_report(ad, chat(server))
    expected = deterministic.write(ad)
    assert_well_formed(report)
    assert (report.summary, report.analysis, report.ugc_script) == (
        expected.summary,
        expected.analysis,
        expected.ugc_script,
    )
    for part in ("summary", "analysis", "ugc_script"):
        assert report.engine[part].startswith("deterministic-v1 (llm output ungrounded: ")
        assert reason in report.engine[part], report.engine[part]


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
