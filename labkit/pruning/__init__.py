"""Pruning: magnitude pruning by hand, tfmot schedules, 2:4 sparsity, filter removal (notebook 03).

Pure numpy (no TensorFlow), the math of notebook 03's exercises:

- :func:`check_sparsity` (from :mod:`labkit.validate`): the one check of a ``sparsity``
  argument (a fraction in [0, 1));
- unstructured: :func:`magnitude_prune` (one tensor), :func:`global_threshold` (one threshold
  for many tensors), :func:`threshold_prune`, :func:`zero_fraction`;
- 2:4 (N:M) sparsity: :func:`is_m_by_n_sparse`;
- structured: :func:`rank_filters_l1`, :func:`prune_filters` (a conv layer and the next one),
  :func:`kernel_image` (a kernel laid out as a picture).

TensorFlow glue (imported on first call) for the course's tf_keras models:

- one-shot pruning without fine-tuning: :func:`prune_model`, :func:`accuracy_vs_sparsity`,
  :func:`outcomes_vs_sparsity` (which samples are right, for intervals and paired tests),
  :func:`sensitivity_scan`, :func:`sparsity_plan`, :func:`kernel_sparsity`;
- tfmot: :func:`prune_with_tfmot` (exercise 03: the wrapped model, ready to fine-tune),
  :func:`polynomial_schedule`, :func:`schedule_trace`, :func:`prune_and_fine_tune`
  (``prune_low_magnitude`` + ``UpdatePruningStep`` + ``strip_pruning``, masks updated every
  ``frequency`` steps) and :func:`prune_m_by_n_and_fine_tune` (``sparsity_m_by_n=(2, 4)``);
- filters: :func:`filters_to_keep` and :func:`remove_filters`, which builds a smaller model;
- measuring: :func:`tflite_weight_sparsity` (zeros in a ``.tflite``),
  :func:`convert_sparse_encoding` (the converter's experimental sparse weight format, from
  :mod:`labkit.convert`, re-exported here);
- exploring: :func:`sparsity_explorer` (ipywidgets) and :func:`plot_masked_kernels` (static).

Sparsity is always the fraction of weights that are zero, in [0, 1), never a percentage.

Example
-------
>>> import numpy as np
>>> w = np.array([[0.5, -0.1], [0.05, -2.0]])
>>> w_pruned, mask = magnitude_prune(w, 0.5)
>>> w_pruned
array([[ 0.5,  0. ],
       [ 0. , -2. ]])
>>> mask
array([[1., 0.],
       [0., 1.]])
>>> global_threshold([w, np.array([3.0, 0.2])], 0.5)
0.2
"""

from labkit.convert import convert_sparse_encoding
from labkit.pruning.explore import plot_masked_kernels, sparsity_explorer, tflite_weight_sparsity
from labkit.pruning.filters import filters_to_keep, remove_filters
from labkit.pruning.masks import (
    PRUNABLE,
    global_threshold,
    is_m_by_n_sparse,
    kernel_image,
    magnitude_prune,
    prune_filters,
    rank_filters_l1,
    threshold_prune,
    zero_fraction,
)
from labkit.pruning.oneshot import (
    accuracy_vs_sparsity,
    kernel_sparsity,
    outcomes_vs_sparsity,
    prunable_layers,
    prune_model,
    sensitivity_scan,
    sparsity_plan,
    total_sparsity,
)
from labkit.pruning.schedules import (
    PRUNING_FREQUENCY,
    polynomial_schedule,
    prune_and_fine_tune,
    prune_m_by_n_and_fine_tune,
    prune_with_tfmot,
    schedule_trace,
    steps_per_epoch,
)
from labkit.validate import check_sparsity

__all__ = [
    "check_sparsity",
    "convert_sparse_encoding",
    "PRUNABLE",
    "PRUNING_FREQUENCY",
    "accuracy_vs_sparsity",
    "filters_to_keep",
    "global_threshold",
    "is_m_by_n_sparse",
    "kernel_image",
    "kernel_sparsity",
    "magnitude_prune",
    "outcomes_vs_sparsity",
    "plot_masked_kernels",
    "polynomial_schedule",
    "prunable_layers",
    "prune_and_fine_tune",
    "prune_filters",
    "prune_m_by_n_and_fine_tune",
    "prune_model",
    "prune_with_tfmot",
    "rank_filters_l1",
    "remove_filters",
    "schedule_trace",
    "sensitivity_scan",
    "sparsity_explorer",
    "sparsity_plan",
    "steps_per_epoch",
    "tflite_weight_sparsity",
    "threshold_prune",
    "total_sparsity",
    "zero_fraction",
]
