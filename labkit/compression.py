"""Compression: weight sharing, entropy coding, distillation, low rank, the pipeline (notebook 04).

Pure numpy (no TensorFlow), the math of notebook 04's exercises:

- weight sharing: :func:`kmeans_codebook` (Lloyd's algorithm, linear initialisation),
  :func:`index_bits`;
- entropy coding: :func:`entropy_bits`, :func:`huffman_code_lengths`, and real bit streams
  with :func:`huffman_encode` / :func:`huffman_decode` (a canonical Huffman code);
  :func:`sparse_symbols` splits a sparse tensor into zero-run lengths and non-zero values,
  the way Deep Compression stores it; :func:`coded_sizes` compares the entropy bound,
  Huffman, gzip and lzma on one tensor;
- distillation: :func:`softmax` (with a temperature) and :func:`distillation_loss`;
- low rank: :func:`low_rank` (truncated SVD).

TensorFlow glue (imported on first call) for the course's tf_keras models:

- clustering with tfmot: :func:`cluster_model` (``cluster_weights`` on a copy, k-means++),
  :func:`cluster_and_fine_tune` (then ``strip_clustering``), :func:`unique_weights`, and
  :func:`shared_weights_model` (the by-hand k-means on every kernel, no fine-tuning);
- :func:`prune_plan_and_fine_tune`: ``prune_low_magnitude`` with one sparsity per layer;
- distillation: :func:`logits_model` and :func:`distill` (the training loop);
- low rank: :func:`factorize` (a Dense or Conv2D layer as two thinner ones);
- the pipeline: :func:`deep_compression` (prune → cluster → int8) and
  :func:`entropy_coded_size` (the int8 weights Huffman-coded as Deep Compression stores
  them, the rest of the file lzma-compressed, decoding checked);
- the codebook on the weight histogram: :func:`plot_codebook` (static) and
  :func:`codebook_explorer` (ipywidgets).

Example
-------
>>> codebook, indices = kmeans_codebook(np.array([0.0, 0.1, 0.9, 1.0]), 2)
>>> codebook, indices
(array([0.05, 0.95]), array([0, 0, 1, 1]))
>>> entropy_bits([0, 0, 1, 1])
1.0
>>> huffman_code_lengths({"a": 5, "b": 2, "c": 1})
{'a': 1, 'b': 2, 'c': 2}
"""

from __future__ import annotations

import gzip
import heapq
import lzma
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.validate import (
    check_array,
    check_fraction,
    check_int,
    check_keras_model,
    check_real,
    check_sparsity,
)
from labkit.zoo import Recipe

SIGNAL_CNN = Recipe("signal_cnn", dataset="mnist1d_large", epochs=8, batch_size=128)
"""Notebook 04's second model: a CNN on MNIST-1D (70,000 signals, 10,500 of them for testing)."""

# --------------------------------------------------------------------------------------
# Weight sharing: k-means on the weights
# --------------------------------------------------------------------------------------


def _weights(w: Any, name: str = "w") -> np.ndarray:
    arr = check_array(w, name, hint="pass a layer's weights, e.g. layer.get_weights()[0]")
    return arr.astype(np.float64)


def kmeans_codebook(w: Any, k: int, iters: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Share ``k`` values among all the weights of ``w``: Lloyd's k-means in one dimension.

    The rules (Han et al., Deep Compression, 2016, use the same linear initialisation):

    1. flatten ``w``; start from ``k`` centroids spaced linearly from ``w.min()`` to
       ``w.max()`` (``np.linspace``);
    2. repeat ``iters`` times: assign each weight to its nearest centroid (the lower index
       on a tie, as ``np.argmin`` does), then move every centroid to the mean of its
       weights — a centroid that got no weight stays where it is;
    3. assign each weight to its nearest centroid of the final codebook.

    Parameters
    ----------
    w : array_like of float, any shape
        The weights; not changed.
    k : int, >= 1
        Number of shared values (clusters).
    iters : int, >= 0, default 20
        Update steps. ``iters=0`` returns the linear initialisation itself.

    Returns
    -------
    (codebook, indices)
        ``codebook``: float64 ``(k,)``; ``indices``: int64 of ``w``'s shape, each in
        ``[0, k)``, so that ``codebook[indices]`` is ``w`` with shared weights.

    Example
    -------
    >>> kmeans_codebook([0.0, 1.0, 2.0, 10.0], 2, iters=0)[0]  # linspace(0, 10, 2)
    array([ 0., 10.])
    >>> kmeans_codebook([0.0, 1.0, 2.0, 10.0], 2, iters=1)[0]
    array([ 1., 10.])
    """
    arr = _weights(w)
    k = check_int(k, "k", low=1, hint="the number of shared values, e.g. 16 for 4-bit indices")
    iters = check_int(iters, "iters", low=0)
    flat = arr.ravel()
    codebook = np.linspace(flat.min(), flat.max(), k)
    for _ in range(iters):
        assign = _nearest(flat, codebook)
        sums = np.bincount(assign, weights=flat, minlength=k)
        counts = np.bincount(assign, minlength=k)
        filled = counts > 0
        codebook[filled] = sums[filled] / counts[filled]
    return codebook, _nearest(flat, codebook).reshape(arr.shape)


def _nearest(flat: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each value (lower index on ties), in chunks."""
    out = np.empty(flat.size, dtype=np.int64)
    step = max(1, 2**22 // max(1, codebook.size))
    for start in range(0, flat.size, step):
        part = flat[start:start + step]
        out[start:start + step] = np.argmin(np.abs(part[:, None] - codebook[None, :]), axis=1)
    return out


def index_bits(k: int) -> int:
    """Bits an index into a codebook of ``k`` entries needs: ``ceil(log2(k))`` (0 for k = 1).

    Example
    -------
    >>> [index_bits(k) for k in (1, 2, 16, 17)]
    [0, 1, 4, 5]
    """
    k = check_int(k, "k", low=1)
    return (k - 1).bit_length()


# --------------------------------------------------------------------------------------
# Entropy and Huffman coding
# --------------------------------------------------------------------------------------


def _symbols(values: Any) -> np.ndarray:
    return check_array(values, "values", kinds="fiub",
                       hint="pass the quantized weights or symbols, e.g. an int8 kernel").ravel()


def entropy_bits(values: Any) -> float:
    """Shannon entropy of the empirical distribution of ``values``, in bits per symbol.

    ``H = -sum(p_i * log2(p_i))`` over the distinct values, with ``p_i`` the fraction of
    the values equal to value ``i``. It is the fewest bits per symbol that any code for
    independent symbols with these frequencies can average (Shannon's source coding
    theorem).

    Example
    -------
    >>> entropy_bits([7, 7, 7, 7])
    0.0
    >>> round(entropy_bits([0, 0, 0, 1]), 4)
    0.8113
    """
    flat = _symbols(values)
    _, counts = np.unique(flat, return_counts=True)
    p = counts / flat.size
    return float(max(0.0, -np.sum(p * np.log2(p))))


def _check_counts(counts: Any) -> dict[Any, int]:
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a dict of symbol -> count, e.g. {{0: 90, 5: 10}}, got "
                        f"{type(counts).__name__}")
    if not counts:
        raise ValueError("counts must hold at least one symbol")
    return {symbol: check_int(n, f"counts[{symbol!r}]", low=1,
                              hint="leave out symbols that never occur")
            for symbol, n in counts.items()}


def huffman_code_lengths(counts: Mapping[Any, int]) -> dict[Any, int]:
    """Code length (bits) of each symbol in an optimal prefix code for ``counts``: Huffman.

    Repeatedly merge the two subtrees of smallest total count; each merge adds one bit to
    every symbol below it. Ties are broken by the order of first appearance in ``counts``,
    so the result repeats; other tie-breaks give other lengths with the same total
    ``sum(count * length)``. A single symbol gets length 1 (a code needs at least one bit).

    Parameters
    ----------
    counts : dict of symbol -> int
        How often each symbol occurs; every count >= 1.

    Returns
    -------
    dict of symbol -> int, the same keys as ``counts``.

    Example
    -------
    >>> huffman_code_lengths({0: 90, 1: 6, -1: 4})
    {0: 1, 1: 2, -1: 2}
    """
    checked = _check_counts(counts)
    symbols = list(checked)
    if len(symbols) == 1:
        return {symbols[0]: 1}
    lengths = [0] * len(symbols)
    heap = [(n, i, [i]) for i, n in enumerate(checked.values())]
    heapq.heapify(heap)
    order = len(symbols)
    while len(heap) > 1:
        n1, _, members1 = heapq.heappop(heap)
        n2, _, members2 = heapq.heappop(heap)
        for i in members1 + members2:
            lengths[i] += 1
        heapq.heappush(heap, (n1 + n2, order, members1 + members2))
        order += 1
    return dict(zip(symbols, lengths))


def canonical_codes(lengths: Mapping[Any, int]) -> dict[Any, tuple[int, int]]:
    """The canonical Huffman code for given code lengths: ``{symbol: (code, length)}``.

    Symbols sorted by (length, symbol) get consecutive codes, so a decoder needs only the
    lengths (DEFLATE, JPEG and Deep Compression's coder store codes this way).

    Example
    -------
    >>> canonical_codes({"a": 1, "b": 2, "c": 2})
    {'a': (0, 1), 'b': (2, 2), 'c': (3, 2)}
    """
    code, previous, out = 0, 0, {}
    for symbol, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        code <<= length - previous
        out[symbol] = (code, length)
        code += 1
        previous = length
    return out


def huffman_encode(values: Any, lengths: Mapping[Any, int]) -> bytes:
    """The bit stream of ``values`` in the canonical code of ``lengths`` (zero-padded bytes).

    Example
    -------
    >>> huffman_encode([0, 0, 1, 2], {0: 1, 1: 2, 2: 2}).hex()  # 0 0 10 11 -> 0010 1100
    '2c'
    """
    codes = canonical_codes(lengths)
    flat = _symbols(values).tolist()
    missing = set(flat) - set(codes)
    if missing:
        raise ValueError(f"values hold symbols without a code: {sorted(missing)[:5]}; build "
                         "lengths from the counts of these values")
    table = {s: format(c, f"0{n}b") for s, (c, n) in codes.items()}
    bits = "".join(table[v] for v in flat)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def huffman_decode(data: bytes, lengths: Mapping[Any, int], count: int) -> list[Any]:
    """Read ``count`` symbols back from :func:`huffman_encode`'s stream."""
    count = check_int(count, "count", low=0)
    decode = {(n, c): s for s, (c, n) in canonical_codes(lengths).items()}
    bits = "".join(format(b, "08b") for b in bytes(data))
    out, code, length = [], 0, 0
    for bit in bits:
        if len(out) == count:
            break
        code, length = (code << 1) | (bit == "1"), length + 1
        symbol = decode.get((length, code), decode)
        if symbol is not decode:
            out.append(symbol)
            code = length = 0
    if len(out) != count:
        raise ValueError(f"the stream holds {len(out)} symbols, not {count}")
    return out


def sparse_symbols(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """A sparse tensor as Deep Compression stores it: zero-run lengths and non-zero values.

    ``runs[i]`` is the number of zeros before non-zero value ``i`` (in ``ravel`` order);
    the last entry of ``runs`` counts the zeros after the last non-zero value. A Huffman
    code spends at least one bit per symbol, so coding a 90 %-zero tensor symbol by symbol
    costs >= 1 bit per weight; coding runs and values separately gets close to the entropy.

    Example
    -------
    >>> sparse_symbols([0, 0, 5, 0, 3, 0])
    (array([2, 1, 1]), array([5, 3]))
    """
    flat = _symbols(values)
    nonzero = np.flatnonzero(flat)
    edges = np.concatenate([[-1], nonzero, [flat.size]])
    return np.diff(edges) - 1, flat[nonzero]


def _huffman_bits(values: np.ndarray) -> tuple[int, int]:
    """(payload bits, table bytes) of a canonical Huffman code built for ``values``."""
    symbols, counts = np.unique(values, return_counts=True)
    lengths = huffman_code_lengths(dict(zip(symbols.tolist(), counts.tolist())))
    payload = int(sum(n * lengths[s] for s, n in zip(symbols.tolist(), counts.tolist())))
    width = max(1, math.ceil(math.log2(max(2, int(np.max(np.abs(symbols))) + 1)) / 8) + 1)
    return payload, len(symbols) * (width + 1)  # each table entry: the symbol and its length


def coded_sizes(values: Any) -> dict[str, float]:
    """Bytes to store ``values`` (e.g. an int8 kernel) with several codes.

    Returns ``{"raw": ..., "entropy bound": ..., "huffman": ..., "huffman, sparse": ...,
    "gzip": ..., "lzma": ...}``: one byte per int8 value; the entropy times the count;
    a Huffman code of the values (payload plus a table of symbols and lengths); Huffman
    codes of :func:`sparse_symbols`' runs and values; and the two general-purpose
    compressors on the raw bytes.
    """
    flat = _symbols(values)
    raw = flat.astype(np.int8).tobytes() if flat.dtype.itemsize == 1 else flat.tobytes()
    bound = entropy_bits(flat) * flat.size / 8
    payload, table = _huffman_bits(flat)
    runs, nonzero = sparse_symbols(flat)
    sparse = [_huffman_bits(part) for part in (runs, nonzero) if part.size]
    return {"raw": len(raw), "entropy bound": bound,
            "huffman": math.ceil(payload / 8) + table,
            "huffman, sparse": sum(math.ceil(p / 8) + t for p, t in sparse),
            "gzip": len(gzip.compress(raw, compresslevel=9, mtime=0)),
            "lzma": len(xz(raw))}


def xz(data: bytes) -> bytes:
    """``data`` compressed by lzma (the xz format, preset 9 extreme): bytes a device stores."""
    return lzma.compress(bytes(data), preset=9 | lzma.PRESET_EXTREME)


# --------------------------------------------------------------------------------------
# Knowledge distillation
# --------------------------------------------------------------------------------------


def _logits(logits: Any, name: str) -> np.ndarray:
    return check_array(logits, name, ndim=2, hint="pass logits of shape (batch, classes)"
                       ).astype(np.float64)


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` along the last axis, computed stably.

    A temperature above 1 softens the distribution: the small probabilities of the wrong
    classes — which classes the teacher finds similar — become visible.

    Example
    -------
    >>> softmax(np.array([[2.0, 0.0]]), temperature=2.0).round(4)
    array([[0.7311, 0.2689]])
    """
    z = _logits(logits, "logits") / check_real(temperature, "temperature", low=0,
                                                include="high")
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def distillation_loss(labels: Any, student_logits: Any, teacher_logits: Any,
                      temperature: float, alpha: float) -> float:
    """Hinton et al.'s (2015) distillation loss, averaged over the batch, in nats.

    ``alpha * CE(labels, softmax(s)) + (1 - alpha) * T² * KL(softmax(t / T) || softmax(s / T))``
    with ``s`` the student's and ``t`` the teacher's logits and ``T`` the temperature.
    ``CE`` is the cross-entropy with the true labels at temperature 1, ``KL(p || q) =
    sum p * (log p - log q)``: the teacher's soft targets ``p`` weight the student's
    log-probabilities. ``T²`` keeps the soft term's gradients as large as the hard term's
    when ``T`` changes. Natural logarithms throughout.

    Parameters
    ----------
    labels : int array ``(batch,)``
    student_logits, teacher_logits : float arrays ``(batch, classes)``
    temperature : float > 0
    alpha : float in [0, 1]
        Weight of the hard-label term.

    Example
    -------
    >>> s, t = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])
    >>> round(distillation_loss([0], s, t, temperature=1.0, alpha=1.0), 4)  # CE only
    0.3133
    >>> distillation_loss([0], s, t, temperature=3.0, alpha=0.0)  # same logits: KL = 0
    0.0
    """
    s = _logits(student_logits, "student_logits")
    t = _logits(teacher_logits, "teacher_logits")
    if s.shape != t.shape:
        raise ValueError(f"student_logits and teacher_logits must have the same shape, got "
                         f"{s.shape} and {t.shape}")
    y = check_array(labels, "labels", shape=(s.shape[0],), kinds="iu",
                    hint="pass integer class labels, one per row of the logits")
    if y.min() < 0 or y.max() >= s.shape[1]:
        raise ValueError(f"labels must be class indices in [0, {s.shape[1]}), got values from "
                         f"{y.min()} to {y.max()}")
    temperature = check_real(temperature, "temperature", low=0, include="high")
    alpha = check_fraction(alpha, "alpha", interval="[0, 1]")
    hard = -_log_softmax(s)[np.arange(len(y)), y]
    log_p, log_q = _log_softmax(t / temperature), _log_softmax(s / temperature)
    soft = np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)
    return float(np.mean(alpha * hard + (1 - alpha) * temperature**2 * soft))


# --------------------------------------------------------------------------------------
# Low-rank factorization
# --------------------------------------------------------------------------------------


def low_rank(w: Any, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """The best rank-``rank`` factors of a matrix: ``a @ b`` is its truncated SVD.

    With ``w = U diag(S) V^T``, keep the ``rank`` largest singular values:
    ``a = U[:, :r] * S[:r]`` (shape ``(m, r)``) and ``b = V^T[:r]`` (shape ``(r, n)``).
    ``a @ b`` is the rank-``r`` matrix closest to ``w`` in the Frobenius (and spectral)
    norm (Eckart-Young); storing ``a`` and ``b`` takes ``r * (m + n)`` numbers instead of
    ``m * n``.

    Example
    -------
    >>> a, b = low_rank(np.outer([1.0, 2.0], [3.0, 4.0]), 1)
    >>> (a @ b).round(6)
    array([[3., 4.],
           [6., 8.]])
    """
    arr = check_array(w, "w", ndim=2, hint="reshape a conv kernel to (kh*kw*c_in, c_out)"
                      ).astype(np.float64)
    rank = check_int(rank, "rank", low=1, high=min(arr.shape),
                     hint=f"a {arr.shape[0]}×{arr.shape[1]} matrix has rank at most "
                          f"{min(arr.shape)}")
    u, s, vt = np.linalg.svd(arr, full_matrices=False)
    return u[:, :rank] * s[:rank], vt[:rank].copy()


def low_rank_params(shape: tuple[int, int], rank: int) -> int:
    """Numbers stored by rank-``rank`` factors of an ``m × n`` matrix: ``rank * (m + n)``."""
    m, n = (check_int(d, "shape", low=1) for d in shape)
    return check_int(rank, "rank", low=1, high=min(m, n)) * (m + n)


# --------------------------------------------------------------------------------------
# Keras models (TensorFlow imported on first call)
# --------------------------------------------------------------------------------------


def _keras() -> Any:
    from labkit._tf import load

    return load()[1]


def _compile(model: Any, learning_rate: float = 1e-3) -> Any:
    keras = _keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def copy_model(model: Any) -> Any:
    """A compiled copy of ``model`` with the same weights (changing it leaves ``model`` alone)."""
    check_keras_model(model, built=True)
    keras = _keras()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return _compile(clone)


def kernel_layers(model: Any) -> list[str]:
    """Names of the Conv2D and Dense layers, whose kernels are shared, pruned or clustered."""
    check_keras_model(model, built=True)
    return [layer.name for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense")]


def _chosen(model: Any, layers: Any) -> list[str]:
    names = kernel_layers(model)
    chosen = names if layers is None else list(layers)
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise ValueError(f"layers {unknown} are not Conv2D or Dense layers of the model; "
                         f"choose from {names}")
    return chosen


def shared_weights_model(model: Any, k: int, *, iters: int = 20, layers: Any = None) -> Any:
    """A copy of ``model`` whose kernels hold only ``k`` values each (:func:`kmeans_codebook`
    on every chosen kernel, by hand, no fine-tuning). Biases are left as they are."""
    chosen = _chosen(model, layers)
    shared = copy_model(model)
    for name in chosen:
        layer = shared.get_layer(name)
        codebook, indices = kmeans_codebook(layer.kernel.numpy(), k, iters)
        layer.kernel.assign(codebook[indices].astype(np.float32))
    return shared


def unique_weights(model: Any) -> dict[str, int]:
    """Distinct values in each Conv2D/Dense kernel: ``{layer name: count}``."""
    return {name: int(np.unique(model.get_layer(name).kernel.numpy()).size)
            for name in kernel_layers(model)}


def cluster_model(model: Any, number_of_clusters: int, *, preserve_sparsity: bool = False,
                  layers: Any = None) -> Any:
    """tfmot's ``cluster_weights`` on a **copy** of ``model``: the wrapped model to fine-tune.

    ``cluster_weights`` changes the model it is given (its layers end up inside the
    wrappers), so it gets a copy. Centroids start at k-means++ positions
    (``CentroidInitialization.KMEANS_PLUS_PLUS``); with ``preserve_sparsity`` zeros stay
    zero (sparsity-preserving clustering, for a pruned model). ``layers`` defaults to every
    Conv2D and Dense layer. Fine-tune the result, then ``strip_clustering`` it (or use
    :func:`cluster_and_fine_tune`, which does all of it).
    """
    number_of_clusters = check_int(number_of_clusters, "number_of_clusters", low=2)
    chosen = set(_chosen(model, layers))
    keras = _keras()
    from labkit._tf import load_tfmot, quiet_native_stderr

    clustering = load_tfmot().clustering.keras
    params = {"number_of_clusters": number_of_clusters,
              "cluster_centroids_init": clustering.CentroidInitialization.KMEANS_PLUS_PLUS,
              "preserve_sparsity": bool(preserve_sparsity)}
    base = copy_model(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(
            base, clone_function=lambda layer: (clustering.cluster_weights(layer, **params)
                                                if layer.name in chosen else layer))
    return wrapped


def cluster_and_fine_tune(model: Any, x: Any, y: Any, number_of_clusters: int, *,
                          epochs: int = 2, batch_size: int = 32, learning_rate: float = 3e-4,
                          preserve_sparsity: bool = False, layers: Any = None,
                          seed: int = 0) -> Any:
    """Cluster a copy of ``model`` (:func:`cluster_model`), fine-tune it on ``x, y`` (the
    centroids are trained, the assignments stay), and return it ``strip_clustering``-ed:
    plain layers whose kernels hold ``number_of_clusters`` distinct values. Compiled."""
    epochs = check_int(epochs, "epochs", low=0)
    keras = _keras()
    from labkit._tf import load_tfmot, quiet_native_stderr

    wrapped = cluster_model(model, number_of_clusters, preserve_sparsity=preserve_sparsity,
                            layers=layers)
    keras.utils.set_random_seed(check_int(seed, "seed", low=0))
    _compile(wrapped, learning_rate)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if epochs:
            wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                        batch_size=batch_size, shuffle=True, verbose=0)
        stripped = load_tfmot().clustering.keras.strip_clustering(wrapped)
    return _compile(stripped)


def prune_plan_and_fine_tune(model: Any, x: Any, y: Any, plan: Mapping[str, float], *,
                             epochs: int = 2, pruning_epochs: int = 1, frequency: int = 10,
                             batch_size: int = 32, learning_rate: float = 1e-3,
                             seed: int = 0) -> Any:
    """Prune a copy of ``model`` with tfmot, each layer to its own sparsity, while fine-tuning.

    Every layer named in ``plan`` is wrapped by ``prune_low_magnitude`` with a polynomial
    schedule from 0 to ``plan[name]`` over the first ``pruning_epochs`` epochs (masks every
    ``frequency`` steps, see :func:`labkit.pruning.polynomial_schedule`); then
    ``strip_pruning``. Layers left out of the plan stay dense. Returns the compiled model.
    """
    from labkit import pruning as lp
    from labkit._tf import load_tfmot, quiet_native_stderr

    if not isinstance(plan, Mapping) or not plan:
        raise TypeError(f"plan must be a non-empty dict of layer name -> sparsity, e.g. "
                        f"{{'dense': 0.9}}, got {plan!r}")
    _chosen(model, plan)
    plan = {name: check_sparsity(s, f"plan[{name!r}]") for name, s in plan.items()}
    epochs = check_int(epochs, "epochs", low=1)
    pruning_epochs = check_int(pruning_epochs, "pruning_epochs", low=1, high=epochs)
    end_step = pruning_epochs * lp.steps_per_epoch(len(x), batch_size)
    sparsity = load_tfmot().sparsity.keras
    schedules = {name: lp.polynomial_schedule(s, end_step=end_step, frequency=frequency)
                 for name, s in plan.items()}
    keras = _keras()
    base = copy_model(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(base, clone_function=lambda layer: (
            sparsity.prune_low_magnitude(layer, pruning_schedule=schedules[layer.name])
            if layer.name in schedules else layer))
        keras.utils.set_random_seed(check_int(seed, "seed", low=0))
        _compile(wrapped, learning_rate)
        wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                    batch_size=batch_size, shuffle=True, verbose=0,
                    callbacks=[sparsity.UpdatePruningStep()])
        stripped = sparsity.strip_pruning(wrapped)
    return _compile(stripped)


def logits_model(model: Any) -> Any:
    """A copy of a Sequential classifier whose last layer outputs logits (no softmax)."""
    check_keras_model(model, built=True)
    keras = _keras()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"logits_model needs a Sequential model, got {type(model).__name__}")
    config = model.get_config()
    last = config["layers"][-1]["config"]
    if last.get("activation") not in ("softmax", "linear"):
        raise ValueError(f"the last layer's activation is {last.get('activation')!r}; expected "
                         "'softmax' (or 'linear', already logits)")
    last["activation"] = "linear"
    clone = keras.Sequential.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def distill(teacher: Any, student: Any, x: Any, y: Any, *, temperature: float = 4.0,
            alpha: float = 0.1, epochs: int = 10, batch_size: int = 32,
            learning_rate: float = 3e-3, seed: int = 0) -> Any:
    """Train a copy of ``student`` to match ``teacher``: the knowledge-distillation loop.

    The teacher's logits on ``x`` are computed once; each step minimises
    :func:`distillation_loss` (the same formula, in TensorFlow) between the student's
    logits and the teacher's on a batch, with Adam. Both models end in a softmax layer;
    the loop works on their logits (:func:`logits_model`). ``student`` is not changed.

    Returns
    -------
    tf_keras.Model
        The trained student, with its softmax output, compiled.
    """
    temperature = check_real(temperature, "temperature", low=0, include="high")
    alpha = check_fraction(alpha, "alpha", interval="[0, 1]")
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    from labkit._tf import load

    tf, keras = load()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    soft_targets = logits_model(teacher).predict(x, batch_size=512, verbose=0)
    net = logits_model(student)
    keras.utils.set_random_seed(check_int(seed, "seed", low=0))
    optimizer = keras.optimizers.Adam(learning_rate)
    t2 = tf.constant(temperature * temperature, tf.float32)

    @tf.function
    def step(xb, yb, tb):
        with tf.GradientTape() as tape:
            s = net(xb, training=True)
            hard = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=s)
            log_p = tf.nn.log_softmax(tb / temperature)
            log_q = tf.nn.log_softmax(s / temperature)
            soft = tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1)
            loss = tf.reduce_mean(alpha * hard + (1 - alpha) * t2 * soft)
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            step(x[idx], y[idx], soft_targets[idx])
    trained = keras.models.clone_model(student)
    trained.set_weights(net.get_weights())
    return _compile(trained)


def factorize(model: Any, ranks: Mapping[str, int]) -> Any:
    """A new Sequential model with each layer in ``ranks`` replaced by two thinner ones.

    A Dense kernel ``W (n_in, n_out)`` becomes ``Dense(r, no bias) → Dense(n_out)`` with
    the factors of :func:`low_rank`; a Conv2D kernel ``(kh, kw, c_in, c_out)``, reshaped to
    ``(kh·kw·c_in, c_out)``, becomes ``Conv2D(r, kh×kw, no bias) → Conv2D(c_out, 1×1)``.
    The bias and the activation move to the second layer, so the model computes its
    original function with each kernel replaced by its best rank-``r`` approximation.
    """
    check_keras_model(model, built=True)
    keras = _keras()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"factorize needs a Sequential model, got {type(model).__name__}")
    if not isinstance(ranks, Mapping):
        raise TypeError(f"ranks must be a dict of layer name -> rank, got {type(ranks).__name__}")
    _chosen(model, ranks)
    layers, weights = [keras.Input(model.input_shape[1:])], []
    for layer in model.layers:
        config = layer.get_config()
        if layer.name not in ranks:
            layers.append(type(layer).from_config(config))
            weights.append(layer.get_weights())
            continue
        kernel, bias = layer.get_weights()
        a, b = low_rank(kernel.reshape(-1, kernel.shape[-1]), ranks[layer.name])
        r = a.shape[1]
        first = dict(config, name=f"{layer.name}_a", use_bias=False, activation="linear")
        second = dict(config, name=f"{layer.name}_b")
        if type(layer).__name__ == "Dense":
            first["units"] = r
            pair = [keras.layers.Dense.from_config(first), keras.layers.Dense.from_config(second)]
            pair_weights = [[a], [b, bias]]
        else:
            first["filters"] = r
            second.update(kernel_size=(1, 1), strides=(1, 1), padding="valid")
            pair = [keras.layers.Conv2D.from_config(first), keras.layers.Conv2D.from_config(second)]
            pair_weights = [[a.reshape(*kernel.shape[:3], r)], [b.reshape(1, 1, r, -1), bias]]
        layers += pair
        weights += pair_weights
    slim = keras.Sequential(layers, name=f"{model.name}_low_rank")
    for layer, w in zip(slim.layers, weights):
        layer.set_weights([np.asarray(v, dtype=np.float32) for v in w])
    return _compile(slim)


# --------------------------------------------------------------------------------------
# The Deep-Compression pipeline and what a device stores
# --------------------------------------------------------------------------------------


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
# The codebook on the weight histogram
# --------------------------------------------------------------------------------------


def _draw_codebook(ax: Any, w: np.ndarray, k: int, layer: str) -> None:
    codebook, indices = kmeans_codebook(w, k)
    error = codebook[indices] - w
    sqnr = 10 * np.log10(np.mean(w**2) / max(np.mean(error**2), 1e-30))
    ax.hist(w.ravel(), bins=120, color="tab:blue", alpha=0.7, label="weights")
    for i, c in enumerate(codebook):
        ax.axvline(c, color="tab:red", lw=1, label="centroids" if i == 0 else None)
    ax.set(title=f"{layer}: k = {k} shared values ({index_bits(k)}-bit indices)\n"
                 f"SQNR of the shared weights {sqnr:.1f} dB", xlabel="weight value",
           ylabel="number of weights")
    ax.legend(fontsize=8, loc="upper right")


def plot_codebook(w: Any, ks: Any, *, layer: str = "kernel") -> Any:
    """Static panels: the weight histogram of ``w`` with the k-means codebook for each k."""
    import matplotlib.pyplot as plt

    arr = _weights(w)
    ks = [check_int(k, "ks", low=1) for k in ks]
    fig, axes = plt.subplots(1, len(ks), figsize=(5.0 * len(ks), 3.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        _draw_codebook(ax, arr, k, layer)
    fig.suptitle(f"Weight sharing on {layer}: k-means codebook (red) on the weight histogram")
    fig.tight_layout()
    return fig


def codebook_explorer(w: Any, *, layer: str = "kernel", k_max: int = 64,
                      interactive: bool | None = None) -> None:
    """A slider for k: the codebook redrawn on the weight histogram of ``w``.

    Headless (see :func:`labkit.widgets.explore`) it draws k = 8 and k = ``k_max``.
    """
    import matplotlib.pyplot as plt

    from labkit.widgets import explore

    arr = _weights(w)
    k_max = check_int(k_max, "k_max", low=2)

    def draw(k: int) -> None:
        fig, ax = plt.subplots(figsize=(9, 3.6))
        _draw_codebook(ax, arr, k, layer)
        fig.tight_layout()
        plt.show()

    explore(draw, {"k": lambda w: w.IntSlider(value=8, min=1, max=k_max, description="k")},
            static=[{"k": 8}, {"k": k_max}], interactive=interactive)


__all__ = [
    "canonical_codes", "coded_sizes", "distillation_loss", "entropy_bits", "huffman_code_lengths",
    "huffman_decode", "huffman_encode", "index_bits", "kmeans_codebook", "low_rank",
    "low_rank_params", "softmax", "sparse_symbols", "xz",
    "cluster_and_fine_tune", "cluster_model", "cluster_preserving_qat", "codebook_explorer", "copy_model",
    "deep_compression", "distill", "entropy_coded_size", "factorize", "kernel_layers",
    "logits_model", "plot_codebook", "prune_plan_and_fine_tune", "shared_weights_model",
    "unique_weights",
]
