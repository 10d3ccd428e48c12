"""LocalStorage keeps the port's promises on plain files, and the storage factory picks the
backend from the storage URL."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.responses import FileResponse

from knightvision.errors import OperatorError
from knightvision.providers.storage.factory import build_storage
from knightvision.providers.storage.local import LocalStorage
from knightvision.providers.storage.probe import verify_storage
from knightvision.providers.storage.s3 import S3Storage
from knightvision.settings import Settings

BODY = bytes(range(256)) * 8192  # 2 MiB: several read chunks


def test_put_stat_read_fetch_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    source = tmp_path / "source.mp4"
    source.write_bytes(BODY)
    key = "videos/local_20260101_000000_abcdef.mp4"
    assert storage.stat(key) is None and storage.fetch(key) is None
    assert storage.put_file(key, source) == len(BODY)

    found = storage.stat(key)
    assert found is not None and found.size == len(BODY)
    assert storage.fetch(key) == storage.local_path(key) == tmp_path / "media" / key
    assert b"".join(storage.read_range(key, 0, len(BODY) - 1)) == BODY
    assert b"".join(storage.read_range(key, 1_500_000, 1_500_009)) == BODY[1_500_000:1_500_010]
    assert storage.presigned_url(key) is None

    storage.delete(key)
    assert storage.stat(key) is None
    storage.delete(key)  # absent is fine


def test_stat_validators_are_those_file_response_sends(tmp_path: Path) -> None:
    """So a video keeps its ETag whichever path serves it."""
    storage = LocalStorage(tmp_path)
    source = tmp_path / "source.mp4"
    source.write_bytes(b"video")
    storage.put_file("videos/v.mp4", source)
    path = storage.local_path("videos/v.mp4")
    found = storage.stat("videos/v.mp4")
    assert path is not None and found is not None
    sent = FileResponse(path, stat_result=path.stat())
    assert sent.headers["etag"] == found.etag
    assert found.last_modified.timestamp() == pytest.approx(path.stat().st_mtime)


def test_probe_leaves_nothing_and_refuses_an_unwritable_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    verify_storage(storage)
    assert list((tmp_path / "media").rglob("*.txt")) == []

    (tmp_path / "media" / "probes").rmdir()  # left empty by the probe
    (tmp_path / "media" / "probes").write_text("a file where the probe wants a directory")
    with pytest.raises(OperatorError, match=r"^storage file://.*/media cannot be written"):
        verify_storage(storage)


def test_the_factory_follows_the_storage_url(tmp_path: Path) -> None:
    local = build_storage(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path.resolve() / "media"
    mount = build_storage(Settings(storage_url=(tmp_path / "shared").as_uri()))
    assert isinstance(mount, LocalStorage) and mount.root == tmp_path / "shared"
    remote = build_storage(
        Settings(
            data_dir=tmp_path,
            storage_url="s3://media/kv",
            storage_endpoint_url="http://127.0.0.1:9",
            storage_region="us-east-1",
        )
    )
    assert isinstance(remote, S3Storage)
    assert remote.describe() == "s3://media/kv/ at http://127.0.0.1:9"
    assert remote.scratch_dir() == tmp_path.resolve() / "scratch"


@pytest.mark.parametrize("from_scratch", [True, False], ids=["from-scratch", "from-elsewhere"])
def test_a_copy_in_progress_is_staged_where_a_killed_one_is_swept(
    tmp_path: Path, from_scratch: bool
) -> None:
    """A render in scratch space is copied beside itself (a job's next attempt sweeps its
    folder), any other file beside its key. Seen mid-copy: the source is a pipe the copy waits
    on."""
    storage = LocalStorage(tmp_path / "media")
    folder = storage.scratch_dir() / "job" if from_scratch else tmp_path / "elsewhere"
    folder.mkdir()
    source = folder / "render.mp4"
    os.mkfifo(source)
    key = "videos/local_20260101_000000_abcdef.mp4"
    videos = tmp_path / "media" / "videos"
    staged, not_staged = (folder, videos) if from_scratch else (videos, folder)
    with ThreadPoolExecutor(1) as pool:
        put = pool.submit(storage.put_file, key, source)
        with open(source, "wb") as pipe:  # opens once the copy reads
            pipe.write(BODY[:1000])
            pipe.flush()
            assert _partial_appears(staged), list(staged.iterdir())
            assert not any(path.name.endswith(".partial") for path in not_staged.iterdir())
            pipe.write(BODY[1000:])
        assert put.result(timeout=30) == len(BODY)
    stored = storage.local_path(key)
    assert stored is not None and stored.read_bytes() == BODY
    assert [path.name for path in folder.iterdir()] == ["render.mp4"]
    assert [path.name for path in videos.iterdir()] == [Path(key).name]


def _partial_appears(folder: Path) -> bool:
    for _ in range(200):
        if any(path.name.endswith(".partial") for path in folder.iterdir()):
            return True
        time.sleep(0.01)
    return False
