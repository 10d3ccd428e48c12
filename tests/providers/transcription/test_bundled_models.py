"""The packaged multilingual base model, joined from its two packages into a model cache: verified,
atomic, done once, safe for processes racing on first use."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import pytest

from knightvision.providers.transcription.bundled_models import (
    WHISPER_BASE,
    assemble_model,
    bundled_model_dir,
)
from knightvision.providers.transcription.port import TranscriptionError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_the_packaged_parts_join_into_the_pinned_model(tmp_path: Path) -> None:
    directory = bundled_model_dir(cache=tmp_path)
    model = directory / "model.bin"
    assert directory.parent == tmp_path and WHISPER_BASE.sha256[:16] in directory.name
    assert model.stat().st_size == WHISPER_BASE.size
    assert sha256_of(model) == WHISPER_BASE.sha256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {
        p.name for p in directory.iterdir()
    }
    assert leftovers(directory) == []
    written = model.stat()
    # a second use finds it complete and writes nothing
    assert bundled_model_dir(cache=tmp_path) == directory
    again = model.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_a_model_cut_short_in_the_cache_is_joined_again(tmp_path: Path) -> None:
    directory = bundled_model_dir(cache=tmp_path)
    with (directory / "model.bin").open("r+b") as model:
        model.truncate(1000)
    assert bundled_model_dir(cache=tmp_path) == directory
    assert sha256_of(directory / "model.bin") == WHISPER_BASE.sha256


def small_parts(tmp_path: Path) -> tuple[list[Path], list[Path], str, int]:
    """Two parts of a 6 MB stand-in model and a side file, with the joined file's hash."""
    first, second = tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"
    first.write_bytes(bytes(range(256)) * 12_000)
    second.write_bytes(b"\x07" * 3_000_000)
    side = tmp_path / "config.json"
    side.write_text('{"stand_in": true}')
    joined = first.read_bytes() + second.read_bytes()
    return [first, second], [side], hashlib.sha256(joined).hexdigest(), len(joined)


def test_a_corrupt_part_is_a_clear_error_and_leaves_no_model(tmp_path: Path) -> None:
    parts, files, sha, size = small_parts(tmp_path)
    with parts[1].open("r+b") as part:  # one flipped byte in the middle of part 2
        part.seek(1_500_000)
        part.write(b"\x08")
    target = tmp_path / "cache" / "model"
    with pytest.raises(TranscriptionError) as error:
        assemble_model(parts, files, target, sha256=sha, size=size)
    assert error.value.code == "transcription_model_corrupt"
    assert "reinstall" in error.value.message and sha in error.value.message
    assert not (target / "model.bin").exists() and leftovers(target) == []


def test_a_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    parts, files, sha, size = small_parts(tmp_path)
    parts[0].unlink()
    with pytest.raises(TranscriptionError) as error:
        assemble_model(parts, files, tmp_path / "model", sha256=sha, size=size)
    assert error.value.code == "transcription_model_missing"
    assert str(parts[0]) in error.value.message


def test_a_cache_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    parts, files, sha, size = small_parts(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with pytest.raises(TranscriptionError) as error:
        assemble_model(parts, files, blocked / "model", sha256=sha, size=size)
    assert error.value.code == "transcription_model_cache"
    assert str(blocked / "model") in error.value.message


def test_a_missing_package_is_a_clear_error(tmp_path: Path) -> None:
    absent = WHISPER_BASE.__class__(
        name="absent",
        parts=(("knightvision_no_such_model_package", "data/model.bin.part1"),),
        files=(),
        sha256="0" * 64,
        size=1,
        licence="none",
    )
    with pytest.raises(TranscriptionError) as error:
        bundled_model_dir(absent, cache=tmp_path)
    assert error.value.code == "transcription_model_missing"
    assert "knightvision_no_such_model_package" in error.value.message


def _join_after(
    barrier: multiprocessing.synchronize.Barrier,
    parts: list[Path],
    files: list[Path],
    target: Path,
    sha: str,
    size: int,
) -> None:
    barrier.wait()
    assemble_model(parts, files, target, sha256=sha, size=size)


def test_processes_joining_at_once_all_get_the_same_whole_model(tmp_path: Path) -> None:
    parts, files, sha, size = small_parts(tmp_path)
    target = tmp_path / "cache" / "model"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    racers = [
        context.Process(target=_join_after, args=(barrier, parts, files, target, sha, size))
        for _ in range(4)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert [racer.exitcode for racer in racers] == [0, 0, 0, 0]
    assert sha256_of(target / "model.bin") == sha
    assert (target / "config.json").read_text() == '{"stand_in": true}'
    assert leftovers(target) == []
