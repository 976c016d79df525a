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
>>> import numpy as np
>>> codebook, indices = kmeans_codebook(np.array([0.0, 0.1, 0.9, 1.0]), 2)
>>> codebook, indices
(array([0.05, 0.95]), array([0, 0, 1, 1]))
>>> entropy_bits([0, 0, 1, 1])
1.0
>>> huffman_code_lengths({"a": 5, "b": 2, "c": 1})
{'a': 1, 'b': 2, 'c': 2}
"""

from labkit.compression.clustering import (
    cluster_and_fine_tune,
    cluster_model,
    copy_model,
    kernel_layers,
    prune_plan_and_fine_tune,
    shared_weights_model,
    unique_weights,
)
from labkit.compression.coding import (
    canonical_codes,
    coded_sizes,
    entropy_bits,
    huffman_code_lengths,
    huffman_decode,
    huffman_encode,
    sparse_symbols,
    xz,
)
from labkit.compression.distillation import distillation_loss, softmax
from labkit.compression.explore import codebook_explorer, plot_codebook
from labkit.compression.factorization import low_rank, low_rank_params
from labkit.compression.pipeline import cluster_preserving_qat, deep_compression, entropy_coded_size
from labkit.compression.sharing import index_bits, kmeans_codebook
from labkit.compression.students import distill, factorize, logits_model
from labkit.zoo import SIGNAL_CNN  # notebook 04's second model: the zoo's signal CNN

__all__ = [
    "SIGNAL_CNN",
    "canonical_codes",
    "cluster_and_fine_tune",
    "cluster_model",
    "cluster_preserving_qat",
    "codebook_explorer",
    "coded_sizes",
    "copy_model",
    "deep_compression",
    "distill",
    "distillation_loss",
    "entropy_bits",
    "entropy_coded_size",
    "factorize",
    "huffman_code_lengths",
    "huffman_decode",
    "huffman_encode",
    "index_bits",
    "kernel_layers",
    "kmeans_codebook",
    "logits_model",
    "low_rank",
    "low_rank_params",
    "plot_codebook",
    "prune_plan_and_fine_tune",
    "shared_weights_model",
    "softmax",
    "sparse_symbols",
    "unique_weights",
    "xz",
]
