"""Public video URLs served from an S3-compatible store: the local-file HTTP suite again with
the media in a bucket, then a real ``knightvision serve`` over real HTTP streaming (and, when
asked, redirecting) objects it never keeps on its own disk."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from knightvision.db.migrate import upgrade
from knightvision.kit.clock import utcnow
from knightvision.kit.ids import new_job_id
from knightvision.settings import Settings
from tests.api.test_static_http import (  # noqa: F401 - collected again here, on S3
    test_a_matching_etag_is_not_modified,
    test_a_range_not_understood_is_ignored,
    test_an_unsatisfiable_range_is_a_json_416,
    test_another_etag_or_an_old_date_gets_the_file,
    test_byte_ranges,
    test_head_answers_the_headers_of_get_without_a_body,
    test_if_range_sends_the_range_only_for_the_same_file,
    test_several_ranges_come_as_multipart,
    video,
)
from tests.fixtures.harness import SettingsFactory
from tests.fixtures.object_storage import S3Server
from tests.fixtures.partner_api import assert_error
from tests.fixtures.processes import Deployment

BIG = bytes(range(251)) * 20_000  # ~5 MiB: many read chunks, a prime period to catch a seam


@pytest.fixture
def settings_factory(
    settings_factory: SettingsFactory, s3_server: S3Server, s3_bucket: str
) -> SettingsFactory:
    """Every harness of this module keeps its media in a fresh bucket."""

    def make(**overrides):
        return settings_factory(**{**s3_server.settings(s3_bucket), **overrides})

    return make


async def test_the_harness_really_serves_from_the_bucket(harness, video: str) -> None:  # noqa: F811
    key = video.removeprefix("/static/")
    assert harness.container.storage.local_path(key) is None
    assert harness.container.storage.stat(key) is not None
    media = harness.settings.resolved_data_dir / "media" / "videos"
    assert not media.exists() or not any(media.iterdir())
    assert (await harness.client.get(video)).status_code == 200


# Real processes ---------------------------------------------------------------------------------


@pytest.fixture
def s3_deployment(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> Deployment:
    database = f"sqlite:///{tmp_path / 'kv.db'}"
    upgrade(Settings(database_url=database).async_database_url)
    return Deployment(
        tmp_path / "data",
        database,
        KNIGHTVISION_STORAGE_URL=f"s3://{s3_bucket}/media",
        **s3_server.env(),  # configured the standard AWS way
    )


@pytest.fixture
def stored_video(s3_server: S3Server, s3_bucket: str) -> str:
    """The job id of a video put straight into the bucket, as a worker on another host would."""
    job_id = new_job_id(utcnow(), "local")
    s3_server.client().put_object(
        Bucket=s3_bucket, Key=f"media/videos/{job_id}.mp4", Body=BIG, ContentType="video/mp4"
    )
    return job_id


def test_a_real_server_streams_objects_with_ranges_and_validators(
    s3_deployment: Deployment, stored_video: str, tmp_path: Path
) -> None:
    url = f"{s3_deployment.base}/static/videos/{stored_video}.mp4"
    with s3_deployment.server("--no-workers"), httpx.Client(timeout=30) as client:
        whole = client.get(url)
        assert (whole.status_code, whole.headers["content-type"]) == (200, "video/mp4")
        assert whole.content == BIG and whole.headers["content-length"] == str(len(BIG))
        assert "immutable" in whole.headers["cache-control"]

        head = client.head(url)
        assert (head.status_code, head.content) == (200, b"")
        for name in ("content-length", "etag", "last-modified", "accept-ranges"):
            assert head.headers[name] == whole.headers[name], name

        etag = whole.headers["etag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        since = client.get(url, headers={"If-Modified-Since": whole.headers["last-modified"]})
        assert (since.status_code, since.content) == (304, b"")

        middle = client.get(url, headers={"Range": "bytes=1000000-3999999"})
        assert (middle.status_code, middle.content) == (206, BIG[1_000_000:4_000_000])
        assert middle.headers["content-range"] == f"bytes 1000000-3999999/{len(BIG)}"
        tail = client.get(url, headers={"Range": "bytes=-10", "If-Range": etag})
        assert (tail.status_code, tail.content) == (206, BIG[-10:])
        several = client.get(url, headers={"Range": "bytes=0-1,4999990-4999999"})
        assert several.status_code == 206
        assert BIG[:2] in several.content and BIG[4_999_990:5_000_000] in several.content

        refused = client.get(url, headers={"Range": f"bytes={len(BIG)}-"})
        assert_error(refused, 416, "Requested range not satisfiable", "range_not_satisfiable")
        assert refused.headers["content-range"] == f"bytes */{len(BIG)}"

        missing = client.get(f"{s3_deployment.base}/static/videos/{new_job_id(utcnow(), 'x')}.mp4")
        assert_error(missing, 404, "Not found", "not_found")

        # Clients that leave mid-download do not wedge the server: the next one is served whole.
        for _ in range(60):  # more than the store's connection pool holds
            with client.stream("GET", url) as partial:
                first = next(partial.iter_bytes())
                assert first and BIG.startswith(first)
        assert client.get(url).content == BIG

    # Nothing of what it served stayed on the API host.
    kept = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and p.suffix == ".mp4"]
    assert kept == []


def test_a_real_server_can_redirect_to_a_presigned_url(
    s3_deployment: Deployment, stored_video: str
) -> None:
    s3_deployment.env["KNIGHTVISION_STORAGE_REDIRECT"] = "1"
    url = f"{s3_deployment.base}/static/videos/{stored_video}.mp4"
    with s3_deployment.server("--no-workers"), httpx.Client(timeout=30) as client:
        moved = client.get(url)
        assert moved.status_code == 302 and moved.headers["cache-control"] == "no-store"
        assert "Signature" in moved.headers["location"]
        assert client.get(moved.headers["location"]).content == BIG
        ranged = client.get(url, headers={"Range": "bytes=0-9"}, follow_redirects=True)
        assert (ranged.status_code, ranged.content) == (206, BIG[:10])
        missing = client.get(f"{s3_deployment.base}/static/videos/{new_job_id(utcnow(), 'x')}.mp4")
        assert missing.status_code == 404
