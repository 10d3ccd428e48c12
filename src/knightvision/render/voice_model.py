"""The piper voice's ONNX session, from a model prepared once per machine.

piper's shipped model does not output its phoneme durations; the word timing needs them
(:mod:`.word_timing`). Exposing them takes the ``onnx`` package (0.6 s to import), parsing and
patching the 63 MB graph and serializing it again, then onnxruntime's graph optimizations:
about 1.2 CPU-s on every cold start. So that work is done once: the patched graph, as optimized
by onnxruntime, is saved in the model cache (``knightvision.kit.model_cache``) and later
processes load it with optimizations off (0.2 CPU-s, and neither ``onnx`` nor the patch is
imported). The file is named after what it is derived from: the source model's path, size and
modification time, and the piper and onnxruntime versions; a new voice or a new onnxruntime
derives it again. Optimizations are saved at onnxruntime's "extended" level, the last one its
documentation calls portable (the "all" level adds layouts for this CPU's vector width); the
"all" level's layouts made no difference to this model's speed when measured.

Nothing is downloaded: everything comes from the installed voice package. A cache that cannot be
written (read-only, full) only costs the saving: the model is then prepared in memory every time.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from knightvision.kit.files import atomic_path
from knightvision.kit.model_cache import default_model_cache

if TYPE_CHECKING:
    import onnxruntime

#: Bumped when what is saved changes (the patch, the optimization level), to derive it again.
PREPARED_FORMAT = 1
PROVIDERS = ["CPUExecutionProvider"]


def voice_session(model_path: Path, cache: Path | None = None) -> onnxruntime.InferenceSession:
    """A single-threaded, non-spinning session of the piper model at ``model_path`` with its
    phoneme durations as an extra output, from the cache when it holds the prepared model."""
    import onnxruntime

    prepared = prepared_model_path(model_path, cache or default_model_cache())
    if prepared.is_file():
        options = _session_options()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return onnxruntime.InferenceSession(
                str(prepared), sess_options=options, providers=PROVIDERS
            )
        except Exception:  # onnxruntime raises its own Fail/InvalidProtobuf: a damaged file
            prepared.unlink(missing_ok=True)
    return _prepare(model_path, prepared)


def prepared_model_path(model_path: Path, cache: Path) -> Path:
    """Where the prepared model derived from ``model_path`` is kept under ``cache``."""
    source = model_path.resolve()
    stat = source.stat()
    identity = "\x1f".join(
        str(part)
        for part in (
            PREPARED_FORMAT,
            source,
            stat.st_size,
            stat.st_mtime_ns,
            version("piper-tts"),
            version("onnxruntime"),
        )
    )
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return cache / f"piper-{source.stem}-{digest}.onnx"


def _prepare(model_path: Path, prepared: Path) -> onnxruntime.InferenceSession:
    """Patch the model in memory, open it and, on the way, have onnxruntime save its optimized
    graph as ``prepared`` (atomically: concurrent processes each write their own file)."""
    import onnx
    import onnxruntime
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(model_path))
    add_alignment_output(model)  # each phoneme's samples: when each word is said
    patched = model.SerializeToString()
    options = _session_options()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    try:
        with atomic_path(prepared) as partial:
            options.optimized_model_filepath = str(partial)
            return onnxruntime.InferenceSession(patched, sess_options=options, providers=PROVIDERS)
    except Exception:
        # The cache cannot be written (onnxruntime raises its own errors for that): prepare the
        # model in memory, now and next time. A broken model raises again here.
        options.optimized_model_filepath = ""
        return onnxruntime.InferenceSession(patched, sess_options=options, providers=PROVIDERS)


def _session_options() -> onnxruntime.SessionOptions:
    """One thread, no spin-waiting: speech is synthesized while libx264 keeps both cores busy,
    and onnxruntime's default (one spinning thread per core) measured ~50% more CPU for the same
    audio, stolen from the encoder."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options
