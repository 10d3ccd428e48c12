"""Files written whole or not at all, by a writer that wants a path or a file object."""

from __future__ import annotations

from pathlib import Path

import pytest

from knightvision.kit.files import atomic_fill, atomic_path


def test_a_path_written_in_the_block_replaces_the_target_when_it_ends(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "model.bin"
    with atomic_path(target) as partial:
        assert partial.parent == target.parent and partial != target
        partial.write_bytes(b"new")
        assert not target.exists()  # nothing is seen before the block ends
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["model.bin"]


def test_a_failed_block_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    def write_half() -> None:
        with atomic_path(target) as partial:
            partial.write_bytes(b"half")
            raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError, match="the writer failed"):
        write_half()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_a_fill_that_refuses_what_it_wrote_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"

    def refuse(sink) -> None:
        sink.write(b"wrong")
        raise ValueError("checksum")

    with pytest.raises(ValueError, match="checksum"):
        atomic_fill(target, refuse)
    assert list(tmp_path.iterdir()) == []
