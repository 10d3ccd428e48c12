"""Registering characters with upstreams (D16), against fakes speaking each documented protocol:
kie ``sora-2-characters-pro`` (origin task + timestamps), OpenAI ``POST /videos/characters`` (the
cut segment), EvoLink ``sora-character`` (our public URL + timestamps); and videos using them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from knightvision.media.segment import cut_segment
from knightvision.providers.video_model.kie import character_result
from knightvision.providers.video_model.port import CharacterRef, CharacterRegistration
from tests.fakes.evolink import FakeEvoLink
from tests.fakes.kie import FakeKie
from tests.fakes.media import make_mp4
from tests.fakes.openai_videos import FakeOpenAIVideos
from tests.fakes.upstream import Canned
from tests.fixtures.video_models import (
    MemoryRun,
    evolink_adapter,
    failure,
    kie_adapter,
    openai_adapter,
    spec,
)


def registration(**fields: Any) -> CharacterRegistration:
    values: dict[str, Any] = {
        "name": "Sales Expert",
        "handle": "sales_expert_1a2b3c4d",
        "character_prompt": "Person looking into the camera",
        "traits": "A confident business person in a modern office",
        "timestamp_start": 1,
        "timestamp_end": 4,
        "job_id": "charfin_20260323_141500_abc123",
        **fields,
    }
    return CharacterRegistration(**values)


async def _origin(kie: FakeKie, tmp_path: Path) -> str:
    """A finished Sora task on kie: the character video's own render."""
    provenance = await kie_adapter(kie).generate(
        spec("sora-2-text-to-video", 10, "9:16"), tmp_path / "origin.mp4", MemoryRun()
    )
    return provenance["upstream_task_id"]


@pytest.mark.parametrize("shape", ["resultObject", "top", "list"])
async def test_kie_registers_from_the_origin_task(kie: FakeKie, tmp_path: Path, shape: str) -> None:
    kie.script.options["character_result"] = shape
    origin = await _origin(kie, tmp_path)
    run = MemoryRun()
    result = await kie_adapter(kie).register_character(registration(origin_task_id=origin), run)
    sent = kie.requests_to("createTask")[-1]["json"]
    assert sent == {
        "model": "sora-2-characters-pro",
        "input": {
            "origin_task_id": origin,
            "timestamps": "1,4",
            "character_user_name": "sales_expert_1a2b3c4d",
            "character_prompt": (
                "A confident business person in a modern office (Person looking into the camera)"
            ),
        },
    }
    assert result["character_id"] in kie.characters and result["adapter"] == "kie"
    assert result["handle"] == kie.characters[result["character_id"]] or shape != "resultObject"
    assert run.memory["character_task"]["task_id"] == result["task_id"]

    # A retried job polls the remembered task: no second registration.
    creates = kie.create_calls
    again = await kie_adapter(kie).register_character(registration(origin_task_id=origin), run)
    assert again["character_id"] == result["character_id"] and kie.create_calls == creates


async def test_kie_rejections_and_failures(kie: FakeKie, tmp_path: Path) -> None:
    origin = await _origin(kie, tmp_path)
    rejected = await failure(
        kie_adapter(kie).register_character(registration(origin_task_id="nope"), MemoryRun())
    )
    assert rejected.code == "upstream_rejected" and not rejected.retryable
    too_long = await failure(
        kie_adapter(kie).register_character(
            registration(origin_task_id=origin, timestamp_end=11), MemoryRun()
        )
    )
    assert too_long.code == "upstream_rejected"
    assert (
        await failure(kie_adapter(kie).register_character(registration(), MemoryRun()))
    ).code == "upstream_rejected"

    kie.script.outcome = "failed"
    run = MemoryRun()
    failed = await failure(
        kie_adapter(kie).register_character(registration(origin_task_id=origin), run)
    )
    assert (
        failed.code == "upstream_failed"
        and failed.retryable
        and run.memory["character_task"] is None
    )
    kie.script.outcome, kie.script.failure = (
        "failed",
        {"code": "400", "message": "sensitive content detected"},
    )
    blocked = await failure(
        kie_adapter(kie).register_character(registration(origin_task_id=origin), MemoryRun())
    )
    assert blocked.code == "moderation_blocked"

    kie.script.create_responses = [
        Canned(200, {"code": 402, "msg": "The current credits are insufficient."})
    ]
    broke = await failure(
        kie_adapter(kie).register_character(registration(origin_task_id=origin), MemoryRun())
    )
    assert broke.code == "insufficient_upstream_credits"


def test_kie_character_result_shapes() -> None:
    assert character_result(
        '{"resultObject": {"character_id": "c1", "character_user_name": "h.ab"}}'
    ) == ("c1", "h.ab")
    assert character_result({"character_id": "c2"}) == ("c2", None)
    assert character_result('{"character_id_list": ["c3"]}') == ("c3", None)
    assert character_result("not json") == (None, None)


async def test_kie_videos_send_character_ids(kie: FakeKie, tmp_path: Path) -> None:
    origin = await _origin(kie, tmp_path)
    made = await kie_adapter(kie).register_character(
        registration(origin_task_id=origin), MemoryRun()
    )
    character = CharacterRef(
        upstream_id=made["character_id"], handle=made["handle"], name="Sales Expert"
    )
    video = spec(
        "sora-2-pro-text-to-video", 15, "16:9", prompt=f"@{made['handle']} pitches a product"
    )
    video = type(video)(**{**video.__dict__, "characters": (character,)})
    await kie_adapter(kie).generate(video, tmp_path / "video.mp4", MemoryRun())
    sent = kie.requests_to("createTask")[-1]["json"]["input"]
    assert sent["character_id_list"] == [made["character_id"]] and sent["prompt"].startswith(
        f"@{made['handle']}"
    )
    storyboard = type(video)(**{**video.__dict__, "duration": 25})
    assert (
        await failure(kie_adapter(kie).generate(storyboard, tmp_path / "sb.mp4", MemoryRun()))
    ).code == "generation_unavailable"


@pytest.fixture
def segment(tmp_path: Path) -> Path:
    source = make_mp4(tmp_path / "character.mp4", 320, 180, 6)
    cut_segment(source, tmp_path / "segment.mp4", 1, 4)
    return tmp_path / "segment.mp4"


async def test_openai_uploads_the_cut_segment(
    openai_fake: FakeOpenAIVideos, segment: Path, tmp_path: Path
) -> None:
    run = MemoryRun()
    result = await openai_adapter(openai_fake).register_character(
        registration(segment=segment), run
    )
    assert result["character_id"].startswith("char_") and result["handle"] == "Sales Expert"
    assert openai_fake.uploads == [
        {
            "name": "Sales Expert",
            "seconds": 3.0,
            "width": 320,
            "height": 180,
            "bytes": segment.stat().st_size,  # noqa: ASYNC240 (a local temporary file)
        }
    ]
    # remembered: a retried job does not upload again
    assert (
        await openai_adapter(openai_fake).register_character(registration(segment=segment), run)
        == result
    )
    assert len(openai_fake.uploads) == 1

    video = spec("sora-2", 8, "9:16", prompt="Sales Expert waves")
    video = type(video)(
        **{**video.__dict__, "characters": (CharacterRef(result["character_id"], "Sales Expert"),)}
    )
    await openai_adapter(openai_fake).generate(video, tmp_path / "v.mp4", MemoryRun())
    assert openai_fake.requests_to("/v1/videos", "POST")[-1]["json"]["characters"] == [
        {"id": result["character_id"]}
    ]


async def test_openai_refusals_map_to_stable_codes(
    openai_fake: FakeOpenAIVideos, tmp_path: Path
) -> None:
    long_clip = make_mp4(tmp_path / "long.mp4", 320, 180, 6)
    rejected = await failure(
        openai_adapter(openai_fake).register_character(registration(segment=long_clip), MemoryRun())
    )
    assert rejected.code == "upstream_rejected" and not rejected.retryable
    openai_fake.script.create_responses = [
        Canned(503, {"error": {"message": "overloaded", "type": "server_error", "code": None}})
    ]
    busy = await failure(
        openai_adapter(openai_fake).register_character(registration(segment=long_clip), MemoryRun())
    )
    assert busy.code == "upstream_unavailable" and busy.retryable
    assert (
        await failure(openai_adapter(openai_fake).register_character(registration(), MemoryRun()))
    ).code == "upstream_rejected"


async def test_evolink_registers_from_our_public_url(evolink: FakeEvoLink) -> None:
    url = "https://kv.example/static/characters/0123456789abcdef01234567.mp4"
    run = MemoryRun()
    result = await evolink_adapter(evolink).register_character(
        registration(video_url=url, timestamp_end=3), run
    )
    sent = evolink.requests_to("/v1/videos/generations")[-1]
    assert sent["json"] == {"model": "sora-character", "video_url": url, "timestamps": "1,3"}
    assert sent["headers"]["idempotency-key"]
    assert result["handle"].startswith("chr_") and result["character_id"] == result["handle"]
    too_long = await failure(
        evolink_adapter(evolink).register_character(
            registration(video_url=url, job_id="charfin_x"), MemoryRun()
        )
    )
    assert too_long.code == "upstream_rejected"  # EvoLink takes at most 2 s


async def test_an_unanswered_openai_registration_is_not_sent_again(
    openai_fake: FakeOpenAIVideos, segment: Path
) -> None:
    # OpenAI takes no idempotency key: a registration it may have made is final, not retried.
    openai_fake.script.stall_posts, openai_fake.script.stall_seconds = 1, 1.5
    adapter = openai_adapter(
        openai_fake,
        http_client_factory=lambda: httpx.AsyncClient(timeout=httpx.Timeout(0.5)),
    )
    error = await failure(adapter.register_character(registration(segment=segment), MemoryRun()))
    assert (error.code, error.retryable) == ("upstream_unavailable", False)
    assert len(openai_fake.characters) == 1  # it did register, once
