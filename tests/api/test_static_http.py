"""The public video URLs speak HTTP as RFC 9110 has it: HEAD, validators and 304, byte ranges
(ignored when not understood, 416 in our error format when unsatisfiable), If-Range."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from tests.fixtures.partner_api import assert_error

BODY = b"\x00\x00\x00\x18ftypmp42" + bytes(range(100)) + b"\x00" * 6  # 118 bytes
SIZE = len(BODY)


@pytest.fixture
async def video(harness, tmp_path: Path) -> str:
    """The URL path of a stored video."""
    job_id = new_job_id(utcnow(), "local")
    source = tmp_path / "seed.mp4"
    source.write_bytes(BODY)
    harness.container.storage.put_file(f"videos/{job_id}.mp4", source)
    return f"/static/videos/{job_id}.mp4"


async def test_head_answers_the_headers_of_get_without_a_body(harness, video: str) -> None:
    got, head = await harness.client.get(video), await harness.client.head(video)
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == got.headers[name], name
    assert head.headers["content-length"] == str(SIZE)
    missing = await harness.client.head(f"/static/videos/{new_job_id(utcnow(), 'local')}.mp4")
    assert (missing.status_code, missing.content) == (404, b"")


@pytest.mark.parametrize(
    "validator",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["strong", "weak", "list", "any"],
)
async def test_a_matching_etag_is_not_modified(harness, video: str, validator: str) -> None:
    etag = (await harness.client.get(video)).headers["etag"]
    again = await harness.client.get(video, headers={"If-None-Match": validator.format(etag=etag)})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert "immutable" in again.headers["cache-control"]


async def test_another_etag_or_an_old_date_gets_the_file(harness, video: str) -> None:
    first = await harness.client.get(video)
    other = await harness.client.get(video, headers={"If-None-Match": '"not-this-one"'})
    assert (other.status_code, other.content) == (200, BODY)
    old = await harness.client.get(
        video, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}
    )
    assert old.status_code == 200
    same = await harness.client.get(
        video, headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert same.status_code == 304
    # If-None-Match decides when both are sent (RFC 9110 §13.1.3)
    both = await harness.client.get(
        video,
        headers={"If-None-Match": '"x"', "If-Modified-Since": first.headers["last-modified"]},
    )
    assert both.status_code == 200


@pytest.mark.parametrize(
    ("header", "content", "content_range"),
    [
        ("bytes=0-3", BODY[:4], f"bytes 0-3/{SIZE}"),
        ("bytes=100-", BODY[100:], f"bytes 100-{SIZE - 1}/{SIZE}"),
        ("bytes=-4", BODY[-4:], f"bytes {SIZE - 4}-{SIZE - 1}/{SIZE}"),
        ("bytes=110-5000", BODY[110:], f"bytes 110-{SIZE - 1}/{SIZE}"),
    ],
)
async def test_byte_ranges(
    harness, video: str, header: str, content: bytes, content_range: str
) -> None:
    ranged = await harness.client.get(video, headers={"Range": header})
    assert (ranged.status_code, ranged.content) == (206, content)
    assert ranged.headers["content-range"] == content_range


async def test_several_ranges_come_as_multipart(harness, video: str) -> None:
    ranged = await harness.client.get(video, headers={"Range": "bytes=0-1,20-21"})
    assert ranged.status_code == 206
    assert ranged.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert BODY[0:2] in ranged.content and BODY[20:22] in ranged.content


@pytest.mark.parametrize(
    "header", ["items=0-3", "bytes=abc", "bytes=5-2", "bytes=", "bytes=-0", "0-3", "bytes=1-2;x"]
)
async def test_a_range_not_understood_is_ignored(harness, video: str, header: str) -> None:
    whole = await harness.client.get(video, headers={"Range": header})
    assert (whole.status_code, whole.content) == (200, BODY)
    assert "content-range" not in whole.headers


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}"])
async def test_an_unsatisfiable_range_is_a_json_416(harness, video: str, header: str) -> None:
    refused = await harness.client.get(video, headers={"Range": header})
    assert_error(refused, 416, "Requested range not satisfiable", "range_not_satisfiable")
    assert refused.headers["content-range"] == f"bytes */{SIZE}"


async def test_if_range_sends_the_range_only_for_the_same_file(harness, video: str) -> None:
    etag = (await harness.client.get(video)).headers["etag"]
    same = await harness.client.get(video, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert (same.status_code, same.content) == (206, BODY[:4])
    changed = await harness.client.get(
        video, headers={"Range": "bytes=0-3", "If-Range": '"an-older-version"'}
    )
    assert (changed.status_code, changed.content) == (200, BODY)
