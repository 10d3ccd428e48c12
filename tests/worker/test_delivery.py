"""Render → verify → store: a video of the wrong shape never reaches its permanent key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from knightvision.job.errors import JobFailure
from knightvision.job.queue import JobQueue
from knightvision.providers.storage.local import LocalStorage
from knightvision.worker.context import JobContext
from knightvision.worker.delivery import Render, RequestedShape, render_verify_store
from tests.fakes.media import make_mp4
from tests.fixtures.job_queue import claim, job_row

KEY = "videos/test.mp4"
ASKED = RequestedShape(width=320, height=240, duration=2)


def renders(width: int, height: int, seconds: float) -> Render:
    async def render(output: Path) -> dict[str, Any]:
        make_mp4(output, width, height, seconds, audio=False)
        return {"renderer": "test"}

    return render


async def deliver(queue: JobQueue, storage: LocalStorage, render: Render) -> Any:
    context = JobContext(await claim(queue), queue)
    return context, await store(context, storage, render)


async def store(context: JobContext, storage: LocalStorage, render: Render) -> Any:
    """The delivery step every test here runs: render, verify and store as ``render.mp4``."""
    return await render_verify_store(
        context,
        storage,
        render,
        shape=ASKED,
        key=KEY,
        file_name="render.mp4",
        storing_message="Storing video...",
    )


async def test_the_asked_for_shape_is_stored_with_its_provenance(
    queue: JobQueue, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media")
    context, delivered = await deliver(queue, storage, renders(320, 240, 2))

    stored = storage.local_path(KEY)
    assert stored is not None and stored.stat().st_size == delivered.size_bytes
    assert (delivered.info.width, delivered.info.height) == (320, 240)
    assert abs(delivered.info.duration - 2) <= 0.1
    assert delivered.provenance == {"renderer": "test"}
    row = await job_row(queue, context.job.id)
    assert (row.message, row.progress) == ("Storing video...", 96)
    assert list(storage.scratch_dir().iterdir()) == []  # the render's scratch space is gone


@pytest.mark.parametrize(
    ("width", "height", "seconds", "described"),
    [
        pytest.param(240, 320, 2, "Rendered video is 240x320, 2.00 s", id="wrong-frame"),
        pytest.param(320, 240, 3, "Rendered video is 320x240, 3.00 s", id="too-long"),
        pytest.param(320, 240, 1, "Rendered video is 320x240, 1.00 s", id="too-short"),
    ],
)
async def test_a_wrong_shape_is_refused_and_not_stored(
    queue: JobQueue, tmp_path: Path, width: int, height: int, seconds: float, described: str
) -> None:
    storage = LocalStorage(tmp_path / "media")
    with pytest.raises(JobFailure) as caught:
        await deliver(queue, storage, renders(width, height, seconds))

    failure = caught.value
    assert (failure.code, failure.retryable, failure.stage) == (
        "render_mismatch",
        True,
        "verifying",
    )
    assert failure.message == f"{described}; asked for 320x240, 2 s"
    assert storage.local_path(KEY) is None
    assert list(storage.scratch_dir().iterdir()) == []


async def test_the_next_attempt_sweeps_what_a_killed_one_left_in_scratch(
    queue: JobQueue, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media")
    context = JobContext(await claim(queue), queue)
    # What a worker killed mid-render leaves: its attempt's folder with half a video in it.
    killed = storage.scratch_dir() / context.job.id / "tmp-killed"
    killed.mkdir(parents=True)
    (killed / "render.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    seen: list[str] = []

    async def render(output: Path) -> dict[str, Any]:
        seen.extend(path.name for path in output.parent.parent.iterdir())
        make_mp4(output, 320, 240, 2, audio=False)
        return {"renderer": "test"}

    await store(context, storage, render)
    assert len(seen) == 1 and seen != ["tmp-killed"]  # only this attempt's folder, while it ran
    assert list(storage.scratch_dir().iterdir()) == []
