"""The Deep-Compression pipeline (prune, cluster, int8) and what a device stores."""

from __future__ import annotations

import lzma
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.compression.clustering import (
    _compile,
    _keras,
    cluster_and_fine_tune,
    copy_model,
    prune_plan_and_fine_tune,
)
from labkit.compression.coding import (
    _huffman_bits,
    huffman_code_lengths,
    huffman_decode,
    huffman_encode,
    sparse_symbols,
    xz,
)
from labkit.validate import check_int


def cluster_preserving_qat(model: Any, x: Any, y: Any, *, epochs: int = 1,
                           batch_size: int = 32, learning_rate: float = 1e-4,
                           seed: int = 0) -> Any:
    """Quantization-aware training that keeps the zeros and the clusters (tfmot's PCQAT).

    ``quantize_annotate_model`` + ``quantize_apply`` with
    ``Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True)``: during QAT the
    weights stay on their clusters and the zeros stay zero, so the int8 file keeps few
    distinct codes. tfmot's default 8-bit scheme quantizes Dense kernels per tensor (one
    scale), where post-training conversion uses one scale per output channel, which
    multiplies the distinct codes. Convert the result with
    :func:`labkit.convert.convert_qat`. ``model`` is not changed.
    """
    from labkit._tf import load_tfmot, quiet_native_stderr

    epochs = check_int(epochs, "epochs", low=1)
    keras = _keras()
    tfmot = load_tfmot()
    from tensorflow_model_optimization.python.core.quantization.keras.collab_opts\
        .cluster_preserve.default_8bit_cluster_preserve_quantize_scheme import (
            Default8BitClusterPreserveQuantizeScheme,
        )

    quantization = tfmot.quantization.keras
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        annotated = quantization.quantize_annotate_model(copy_model(model))
        qat = quantization.quantize_apply(
            annotated, Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True))
        keras.utils.set_random_seed(check_int(seed, "seed", low=0))
        _compile(qat, learning_rate)
        qat.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                batch_size=batch_size, shuffle=True, verbose=0)
    return qat


def deep_compression(model: Any, x: Any, y: Any, *, plan: Mapping[str, float],
                     number_of_clusters: int = 16, x_calib: Any = None,
                     prune_epochs: int = 2, cluster_epochs: int = 1, qat_epochs: int = 0,
                     batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Prune → cluster → int8, each step from the one before; every model and file kept.

    1. :func:`prune_plan_and_fine_tune` with ``plan`` (the first half of the epochs grows
       the masks);
    2. :func:`cluster_and_fine_tune` with ``preserve_sparsity=True`` (the zeros stay; tfmot's
       collaborative optimization), ``number_of_clusters`` per kernel;
    3. int8: post-training full-integer conversion (:func:`labkit.convert.convert_int8`,
       calibrated on ``x_calib``, default the first 200 samples of ``x``) when
       ``qat_epochs`` is 0, else :func:`cluster_preserving_qat` for ``qat_epochs`` epochs and
       :func:`labkit.convert.convert_qat`.

    Returns
    -------
    dict
        ``{"models": {"original", "pruned", "clustered"}, "files": {"float32", "pruned",
        "clustered", "int8"}, "seconds": {"pruned", "clustered", "int8"}}``: Keras models,
        ``.tflite`` bytes (float32 but the last) and the time each step took.
    """
    import time

    from labkit import convert as lc

    x = np.asarray(x, dtype=np.float32)
    x_calib = x[:200] if x_calib is None else x_calib
    prune_epochs = check_int(prune_epochs, "prune_epochs", low=1)
    qat_epochs = check_int(qat_epochs, "qat_epochs", low=0)
    start = time.perf_counter()
    pruned = prune_plan_and_fine_tune(model, x, y, plan, epochs=prune_epochs,
                                      pruning_epochs=max(1, prune_epochs // 2),
                                      batch_size=batch_size, seed=seed)
    seconds = {"pruned": time.perf_counter() - start}
    clustered = cluster_and_fine_tune(pruned, x, y, number_of_clusters, epochs=cluster_epochs,
                                      batch_size=batch_size, preserve_sparsity=True, seed=seed)
    seconds["clustered"] = time.perf_counter() - start - seconds["pruned"]
    if qat_epochs:
        qat = cluster_preserving_qat(clustered, x, y, epochs=qat_epochs, batch_size=batch_size,
                                     seed=seed)
        int8 = lc.convert_qat(qat)
    else:
        int8 = lc.convert_int8(clustered, x_calib)
    seconds["int8"] = time.perf_counter() - start - seconds["pruned"] - seconds["clustered"]
    files = {"float32": lc.convert_float32(model), "pruned": lc.convert_float32(pruned),
             "clustered": lc.convert_float32(clustered), "int8": int8}
    return {"models": {"original": model, "pruned": pruned, "clustered": clustered},
            "files": files, "seconds": seconds}


def _int8_weight_spans(model_bytes: bytes) -> list[tuple[str, int, int]]:
    """(role, start, length) of each int8 weight tensor's bytes inside a ``.tflite`` file."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    from labkit.runtime import describe

    roles = {info.index: info.role for info in describe(model_bytes).constants
             if info.dtype == "int8" and info.role.endswith("weights")}
    model = schema.Model.GetRootAs(model_bytes, 0)
    graph = model.Subgraphs(0)
    spans = []
    for index, role in roles.items():
        buffer = model.Buffers(graph.Tensors(index).Buffer())
        offset = flatbuffers.number_types.UOffsetTFlags.py_type(buffer._tab.Offset(4))
        if not offset or not buffer.DataLength():
            continue  # stored outside the flatbuffer (large models): not handled here
        spans.append((role, buffer._tab.Vector(offset), buffer.DataLength()))
    return spans


def entropy_coded_size(model_bytes: bytes) -> dict[str, Any]:
    """What a device stores for a ``.tflite`` model with entropy-coded int8 weights.

    Deep Compression's storage: each int8 weight tensor as Huffman-coded zero-run lengths
    and Huffman-coded non-zero values (:func:`sparse_symbols`, canonical codes with their
    tables), and everything else in the file — structure, scales, biases — with the weight
    bytes blanked out, compressed with lzma. Every stream is decoded again and compared with
    the original bytes, so the size counts bytes that really reproduce the model.

    Returns
    -------
    dict
        ``{"total_bytes", "rest_bytes", "weights_bytes", "tensors": {role: bytes}}``.
    """
    from labkit.validate import check_model_bytes

    model_bytes = check_model_bytes(model_bytes)
    skeleton = bytearray(model_bytes)
    tensors = {}
    for role, start, length in _int8_weight_spans(model_bytes):
        values = np.frombuffer(model_bytes, dtype=np.int8, count=length, offset=start)
        size = 8  # two 4-byte counts: symbols in each stream
        for part in sparse_symbols(values):
            if not part.size:
                continue
            symbols, counts = np.unique(part, return_counts=True)
            lengths = huffman_code_lengths(dict(zip(symbols.tolist(), counts.tolist())))
            stream = huffman_encode(part, lengths)
            if huffman_decode(stream, lengths, part.size) != part.tolist():
                raise RuntimeError(f"the Huffman stream of {role} does not decode to its values")
            size += len(stream) + _huffman_bits(part)[1]
        tensors[role] = size
        skeleton[start:start + length] = bytes(length)
    rest = xz(bytes(skeleton))
    if lzma.decompress(rest) != bytes(skeleton):
        raise RuntimeError("the lzma stream does not decode to the model's structure")
    weights = sum(tensors.values())
    return {"total_bytes": len(rest) + weights, "rest_bytes": len(rest),
            "weights_bytes": weights, "tensors": tensors}


# --------------------------------------------------------------------------------------
