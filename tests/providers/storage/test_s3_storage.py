"""S3Storage against a real S3-compatible server on loopback: what the port promises, and what
storage faults do to an upload."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from knightvision.errors import OperatorError
from knightvision.providers.storage.factory import build_storage
from knightvision.providers.storage.probe import verify_storage
from knightvision.providers.storage.s3 import S3Location, S3Storage
from knightvision.settings import Settings
from tests.fixtures.object_storage import FlakyProxy, S3Server

BODY = bytes(range(256)) * 4096  # 1 MiB, several read chunks


def _storage(s3_server: S3Server, bucket: str, tmp_path: Path, **overrides) -> S3Storage:
    settings = Settings(data_dir=tmp_path, **{**s3_server.settings(bucket), **overrides})
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    return storage


def _source(tmp_path: Path, data: bytes = BODY) -> Path:
    source = tmp_path / "source.mp4"
    source.write_bytes(data)
    return source


def test_location_is_bucket_and_prefix() -> None:
    assert S3Location.parse("s3://media/kv/prod/") == S3Location("media", "kv/prod/")
    assert S3Location.parse("s3://media") == S3Location("media", "")
    with pytest.raises(ValueError, match="s3://"):
        S3Location.parse("s3:///no-bucket")


def test_put_stat_read_fetch_delete(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    storage = _storage(s3_server, s3_bucket, tmp_path)
    key = "videos/local_20260101_000000_abcdef.mp4"
    assert storage.stat(key) is None and storage.fetch(key) is None
    assert storage.put_file(key, _source(tmp_path)) == len(BODY)

    found = storage.stat(key)
    assert found is not None and found.size == len(BODY) and found.etag.startswith('"')
    assert b"".join(storage.read_range(key, 0, len(BODY) - 1)) == BODY
    assert b"".join(storage.read_range(key, 1000, 1999)) == BODY[1000:2000]
    fetched = storage.fetch(key)
    assert fetched is not None and fetched.read_bytes() == BODY
    assert fetched.is_relative_to(storage.scratch_dir())
    # under the prefix of the URL, with its content type
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=f"media/{key}")
    assert head["ContentType"] == "video/mp4"

    storage.delete(key)
    assert storage.stat(key) is None and storage.fetch(key) is None
    storage.delete(key)  # absent is fine


def test_a_replaced_object_is_fetched_anew(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = _storage(s3_server, s3_bucket, tmp_path)
    storage.put_file("characters/t/reference_0.png", _source(tmp_path, b"first"))
    assert storage.fetch("characters/t/reference_0.png").read_bytes() == b"first"
    storage.put_file("characters/t/reference_0.png", _source(tmp_path, b"second"))
    assert storage.fetch("characters/t/reference_0.png").read_bytes() == b"second"


def test_unsafe_keys_are_refused(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    storage = _storage(s3_server, s3_bucket, tmp_path)
    for key in ("../escape.mp4", "/abs.mp4", "videos/x"):
        with pytest.raises(ValueError, match="unsafe"):
            storage.put_file(key, _source(tmp_path))


def test_presigned_url_downloads_without_credentials(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    storage = _storage(s3_server, s3_bucket, tmp_path)
    storage.put_file("videos/v.mp4", _source(tmp_path))
    url = storage.presigned_url("videos/v.mp4")
    assert url is not None and "Signature" in url
    assert httpx.get(url, timeout=10).content == BODY


def test_a_dropped_upload_is_retried_and_stored_whole(
    s3_server: S3Server, s3_bucket: str, flaky_s3: FlakyProxy, tmp_path: Path
) -> None:
    storage = _storage(s3_server, s3_bucket, tmp_path, storage_endpoint_url=flaky_s3.endpoint)
    flaky_s3.fail_puts = 2
    storage.put_file("videos/v.mp4", _source(tmp_path))
    assert (flaky_s3.cut, flaky_s3.forwarded_puts) == (2, 1)
    assert b"".join(storage.read_range("videos/v.mp4", 0, len(BODY) - 1)) == BODY


def test_an_upload_that_keeps_failing_leaves_nothing(
    s3_server: S3Server, s3_bucket: str, flaky_s3: FlakyProxy, tmp_path: Path
) -> None:
    storage = _storage(
        s3_server,
        s3_bucket,
        tmp_path,
        storage_endpoint_url=flaky_s3.endpoint,
        storage_max_attempts=3,
    )
    flaky_s3.fail_puts = -1
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's own connection errors
        storage.put_file("videos/v.mp4", _source(tmp_path))
    assert flaky_s3.cut >= 3 and flaky_s3.forwarded_puts == 0  # each attempt, then given up
    flaky_s3.fail_puts = 0
    assert storage.stat("videos/v.mp4") is None


def test_probe_passes_on_a_working_store_and_leaves_nothing(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    verify_storage(_storage(s3_server, s3_bucket, tmp_path))
    listed = s3_server.client().list_objects_v2(Bucket=s3_bucket)
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("fault", ["missing bucket", "no server"])
def test_probe_fails_in_one_line_naming_the_storage(
    s3_server: S3Server, tmp_path: Path, fault: str
) -> None:
    overrides = {"storage_max_attempts": 1}
    if fault == "no server":
        overrides["storage_endpoint_url"] = "http://127.0.0.1:9"
    storage = _storage(s3_server, "kv-no-such-bucket", tmp_path, **overrides)
    with pytest.raises(OperatorError) as refused:
        verify_storage(storage)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("storage s3://kv-no-such-bucket/media/ at http://127.0.0.1:")
    assert "cannot be written, read and deleted" in message
