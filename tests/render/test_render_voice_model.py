"""The voice's model is prepared once per machine (patched for phoneme durations, optimized by
onnxruntime) and later processes load it from the model cache: without the ``onnx`` package,
speaking exactly as a voice prepared in memory does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knightvision.render.speech import Voice, default_model_path
from knightvision.render.voice_model import prepared_model_path

TEXT = "Rated 4.8 stars by 12,000 customers. Shop now!"


def _config(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _said(voice: Voice) -> list[tuple[bytes, tuple[tuple[float, float], ...], frozenset[int]]]:
    return [(s.audio.tobytes(), s.phones, s.word_starts) for s in voice.said(TEXT, 0.9)]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def prepared_voice(cache: Path) -> Voice:
    """A voice whose model was prepared into an empty cache (the first process on a machine)."""
    model = default_model_path()
    return Voice(model, _config(model), cache)


def test_the_first_load_saves_the_prepared_model_in_the_cache(prepared_voice, cache) -> None:
    prepared = prepared_model_path(default_model_path(), cache)
    assert prepared.parent == cache and prepared.is_file()
    assert prepared.stat().st_size > 10_000_000
    assert sorted(p.name for p in cache.iterdir()) == [prepared.name]  # no partial file left


def test_a_voice_from_the_cache_speaks_exactly_as_the_one_prepared_in_memory(
    prepared_voice, cache
) -> None:
    model = default_model_path()
    cached = Voice(model, _config(model), cache)
    said = _said(cached)
    assert said == _said(prepared_voice)
    assert all(phones for _, phones, _ in said)  # the phoneme durations are there


def test_a_process_loading_from_the_cache_imports_neither_onnx_nor_the_patch(
    prepared_voice, cache
) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from knightvision.render.speech import Voice, default_model_path\n"
        "model = default_model_path()\n"
        f"voice = Voice(model, model.with_name(model.name + '.json'), Path({str(cache)!r}))\n"
        "assert voice.said('Hello there.')[0].phones\n"
        "print(sorted(m for m in sys.modules if m == 'onnx' or m.startswith('onnx.')"
        " or m == 'piper.patch_voice_with_alignment'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_new_voice_file_is_prepared_again(tmp_path: Path) -> None:
    model, cache = tmp_path / "voice.onnx", tmp_path / "cache"
    shutil.copyfile(default_model_path(), model)
    stamp = model.stat().st_mtime_ns
    before = prepared_model_path(model, cache)
    assert prepared_model_path(model, cache) == before
    os.utime(model, ns=(stamp, stamp + 1_000_000_000))  # replaced in place: another time
    assert prepared_model_path(model, cache) != before
    with model.open("ab") as grown:  # another size at the same time
        grown.write(b"\0")
    os.utime(model, ns=(stamp, stamp))
    assert prepared_model_path(model, cache) != before


def test_a_damaged_cache_file_is_prepared_again(tmp_path: Path) -> None:
    model = default_model_path()
    prepared = prepared_model_path(model, tmp_path)
    prepared.write_bytes(b"not a model")
    voice = Voice(model, _config(model), tmp_path)
    assert voice.said("Hello there.")[0].phones
    assert prepared.stat().st_size > 10_000_000


def test_a_cache_that_cannot_be_written_still_gives_a_voice(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")  # the cache's directory cannot be made under a file
    model = default_model_path()
    voice = Voice(model, _config(model), blocked / "models")
    audio = voice.synthesize("Hello there.")
    assert audio.dtype == np.float32 and len(audio) > voice.sample_rate // 2
    assert voice.said("Hello there.")[0].phones
