"""tfmot: pruning schedules, prune_low_magnitude, fine-tuning with UpdatePruningStep, 2:4 sparsity."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from labkit.pruning.oneshot import _check_model, _layer_names, prunable_layers
from labkit.training import clone
from labkit.validate import check_int, check_sparsity


def polynomial_schedule(final_sparsity: float, *, end_step: int, frequency: int = 10,
                        begin_step: int = 0, initial_sparsity: float = 0.0) -> Any:
    """tfmot's ``PolynomialDecay``, with ``end_step`` moved down to a mask-update step.

    The masks change only every ``frequency`` steps from ``begin_step``; when ``end_step`` is
    not such a step, the last update happens before it and the final sparsity is never
    reached, so ``end_step`` is rounded down to ``begin_step + j * frequency``.

    Raises
    ------
    ValueError
        If no mask update after ``begin_step`` fits before ``end_step`` (lower ``frequency``:
        tfmot's default of 100 prunes nothing in a 90-step fine-tune).
    """
    final = check_sparsity(final_sparsity, "final_sparsity")
    initial = check_sparsity(initial_sparsity, "initial_sparsity")
    frequency = check_int(frequency, "frequency", low=1)
    begin_step = check_int(begin_step, "begin_step", low=0)
    end_step = check_int(end_step, "end_step", low=begin_step + 1)
    updates = (end_step - begin_step) // frequency
    if updates < 1:
        raise ValueError(f"frequency={frequency} leaves no mask update between begin_step="
                         f"{begin_step} and end_step={end_step}; use a frequency below "
                         f"{end_step - begin_step}")
    from labkit._tf import load_tfmot

    return load_tfmot().sparsity.keras.PolynomialDecay(
        initial_sparsity=initial, final_sparsity=final, begin_step=begin_step,
        end_step=begin_step + updates * frequency, frequency=frequency)


def schedule_trace(schedule: Any, num_steps: int) -> np.ndarray:
    """The sparsity the masks have after each of ``num_steps`` training steps.

    Calls the tfmot schedule as the pruning wrapper does: the masks change only at steps
    where the schedule says so, and keep their sparsity in between.
    """
    num_steps = check_int(num_steps, "num_steps", low=1)
    from labkit._tf import load

    tf, _ = load()
    current, trace = 0.0, np.zeros(num_steps)
    for step in range(num_steps):
        update, target = schedule(tf.constant(step, dtype=tf.int64))
        if bool(update):
            current = float(target)
        trace[step] = current
    return trace


PRUNING_FREQUENCY = 10  # mask updates every 10 steps: tfmot's default (100) is too rare here


def prune_with_tfmot(model: Any, target_sparsity: float, end_step: int) -> Any:
    """Wrap a copy of ``model`` for pruning with tfmot, ready to fine-tune (exercise 03).

    Every Conv2D and Dense layer except the first of them (``conv1``: few weights, and
    the raw input flows through it) is wrapped with ``prune_low_magnitude`` and a
    ``PolynomialDecay`` schedule from sparsity 0 at step 0 to ``target_sparsity`` at
    ``end_step``, with masks updated every :data:`PRUNING_FREQUENCY` steps. The result is
    *not* trained and *not* stripped: fit it with the ``UpdatePruningStep`` callback for at
    least ``end_step`` steps, then ``strip_pruning``.

    Parameters
    ----------
    model : tf_keras.Model
        A trained model; it is not changed (the wrapped copy starts from its weights).
    target_sparsity : float in [0, 1)
        Sparsity of each wrapped kernel once ``end_step`` steps have run.
    end_step : int
        The step at which the schedule reaches ``target_sparsity``: a multiple of
        :data:`PRUNING_FREQUENCY`, so that a mask update falls on it.

    Returns
    -------
    tf_keras.Model
        The wrapped copy (uncompiled).

    Raises
    ------
    ValueError
        If ``target_sparsity`` is not in [0, 1) or ``end_step`` is not a positive multiple
        of :data:`PRUNING_FREQUENCY`.
    """
    keras = _check_model(model)
    target_sparsity = check_sparsity(target_sparsity, "target_sparsity")
    end_step = check_int(end_step, "end_step", low=PRUNING_FREQUENCY)
    if end_step % PRUNING_FREQUENCY:
        raise ValueError(f"end_step must be a multiple of {PRUNING_FREQUENCY} (the mask update "
                         f"frequency), so that the last update reaches the target; got {end_step}")
    from labkit._tf import load_tfmot, quiet_native_stderr

    sparsity = load_tfmot().sparsity.keras
    schedule = sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target_sparsity,
                                        begin_step=0, end_step=end_step,
                                        frequency=PRUNING_FREQUENCY)
    wrapped_names = set(prunable_layers(model)[1:])
    base = clone(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.models.clone_model(
            base, clone_function=lambda layer: (sparsity.prune_low_magnitude(
                layer, pruning_schedule=schedule) if layer.name in wrapped_names else layer))


def _fine_tune_wrapped(model: Any, x: Any, y: Any, wrap: Mapping[str, Any], *,
                       layers: Iterable[str] | None, epochs: int, batch_size: int,
                       learning_rate: float, seed: int) -> Any:
    from labkit._tf import load_tfmot, quiet_native_stderr

    keras = _check_model(model)
    names = set(_layer_names(model, layers))
    epochs = check_int(epochs, "epochs", low=1)
    tfmot = load_tfmot()
    sparsity = tfmot.sparsity.keras
    base = clone(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(
            base, clone_function=lambda layer: (sparsity.prune_low_magnitude(layer, **wrap)
                                                if layer.name in names else layer))
        keras.utils.set_random_seed(seed)
        wrapped.compile(optimizer=keras.optimizers.Adam(learning_rate),
                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                    batch_size=batch_size, verbose=0, shuffle=True,
                    callbacks=[sparsity.UpdatePruningStep()])
        stripped = sparsity.strip_pruning(wrapped)
    stripped.compile(optimizer=keras.optimizers.Adam(learning_rate),
                     loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return stripped


def steps_per_epoch(num_samples: int, batch_size: int) -> int:
    """Training steps (batches) in one epoch: ``ceil(num_samples / batch_size)``."""
    num_samples = check_int(num_samples, "num_samples", low=1)
    return -(-num_samples // check_int(batch_size, "batch_size", low=1))


def prune_and_fine_tune(model: Any, x: Any, y: Any, final_sparsity: float, *,
                        epochs: int = 3, pruning_epochs: int = 2, frequency: int = 10,
                        batch_size: int = 32, learning_rate: float = 1e-3,
                        layers: Iterable[str] | None = None, seed: int = 0) -> Any:
    """Prune a copy of ``model`` with tfmot while fine-tuning; return it stripped.

    Wraps the chosen layers with ``prune_low_magnitude`` and a :func:`polynomial_schedule`
    that rises from 0 to ``final_sparsity`` over the first ``pruning_epochs`` epochs, with
    masks updated every ``frequency`` steps; trains ``epochs`` epochs with the
    ``UpdatePruningStep`` callback (the rest recovers at the final sparsity); then
    ``strip_pruning`` leaves plain layers whose kernels hold the zeros.

    Parameters
    ----------
    model : tf_keras.Model
        A trained model; it is not changed.
    x, y : arrays
        Training data and integer labels.
    final_sparsity : float in [0, 1)
        Sparsity of each pruned kernel at the end.
    epochs, pruning_epochs, frequency, batch_size, learning_rate, seed
        The fine-tune; ``pruning_epochs <= epochs``.
    layers : names, optional
        Layers to prune; default every Conv2D and Dense layer.

    Returns
    -------
    tf_keras.Model
        Compiled; check the result with :func:`kernel_sparsity`.
    """
    final_sparsity = check_sparsity(final_sparsity, "final_sparsity")
    epochs = check_int(epochs, "epochs", low=1)
    pruning_epochs = check_int(pruning_epochs, "pruning_epochs", low=1)
    if pruning_epochs > epochs:
        raise ValueError(f"pruning_epochs ({pruning_epochs}) must be <= epochs ({epochs})")
    end_step = pruning_epochs * steps_per_epoch(len(x), batch_size)
    schedule = polynomial_schedule(final_sparsity, end_step=end_step, frequency=frequency)
    return _fine_tune_wrapped(model, x, y, {"pruning_schedule": schedule}, layers=layers,
                              epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, seed=seed)


def prune_m_by_n_and_fine_tune(model: Any, x: Any, y: Any, *, m_by_n: tuple[int, int] = (2, 4),
                               epochs: int = 2, batch_size: int = 32,
                               learning_rate: float = 1e-3, layers: Iterable[str] | None = None,
                               seed: int = 0) -> Any:
    """Structured N:M sparsity with tfmot (``sparsity_m_by_n``): ``m`` zeros in every block
    of ``n`` consecutive input-channel weights, then fine-tuning; returns the stripped model.

    tfmot sets the N:M masks once, at step 1, and keeps them; the fine-tune lets the kept
    weights make up for the removed ones. Verify the pattern with :func:`is_m_by_n_sparse`.
    See :func:`prune_and_fine_tune` for the other arguments.
    """
    if isinstance(m_by_n, str) or not isinstance(m_by_n, Sequence) or len(m_by_n) != 2:
        raise TypeError(f"m_by_n must be two ints (m, n), e.g. (2, 4); got {m_by_n!r}")
    m, n = check_int(m_by_n[0], "m_by_n[0]", low=1), check_int(m_by_n[1], "m_by_n[1]", low=2)
    if not m < n:
        raise ValueError(f"m_by_n must be two ints (m, n) with 0 < m < n, e.g. (2, 4); got "
                         f"{m_by_n!r}")
    return _fine_tune_wrapped(model, x, y, {"sparsity_m_by_n": (int(m), int(n))}, layers=layers,
                              epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, seed=seed)
