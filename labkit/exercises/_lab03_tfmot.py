"""Exercise 03.prune_with_tfmot's tests (used by :mod:`labkit.exercises.lab03`): a small CNN
trained on 8×8 digits once per process; the judge fine-tunes the student's wrapped model
itself with ``UpdatePruningStep``, strips it, and measures the sparsity and the accuracy."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from labkit.grading.compare import Mismatch
from labkit.grading.core import TestContext

# --------------------------------------------------------------------------------------
# 03.prune_with_tfmot (a small CNN trained on 8×8 digits, once per process)
# --------------------------------------------------------------------------------------

_TF_HINT = ("Wrap every Conv2D and Dense layer except conv1 with "
            "tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=...), using "
            "tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity="
            "target_sparsity, begin_step=0, end_step=end_step, frequency=10), through "
            "keras.models.clone_model(model, clone_function=...); return the wrapped model.")
_WRAPPED = ("conv2", "hidden", "dense")  # every Conv2D/Dense layer of the test model but conv1
_BATCH = 32
_EDGE = (0.6, 50)  # end_step below tfmot's default frequency of 100; midway at step 25


def _small_cnn() -> Any:
    from labkit._tf import load

    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(32, activation="relu", name="hidden"),
        layers.Dense(10, activation="softmax", name="dense"),
    ])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@functools.lru_cache(maxsize=1)
def _digits_cnn() -> tuple[list[np.ndarray], Any]:
    """Weights of the small CNN trained on 8×8 digits, and the digits: the held-out images
    (validation and test) judge the accuracy and never reach the student's code."""
    from labkit.data import load_digits

    ds = load_digits(8)
    model = _small_cnn()
    model.fit(ds.x_train, ds.y_train, epochs=15, batch_size=_BATCH, verbose=0)
    return model.get_weights(), ds


def _fresh_model() -> Any:
    weights, _ = _digits_cnn()
    model = _small_cnn()
    model.set_weights(weights)
    return model


def _cases(ctx: TestContext) -> list[tuple[float, int]]:
    """The fixed edge case and a random one: a target sparsity, an end_step (multiple of 10).

    The edge case separates the typical mistakes; the random one comes from four cases only,
    because the judge fine-tunes every distinct model it gets (seconds each)."""
    return [_EDGE, (float(ctx.rng.choice([0.5, 0.7])), int(ctx.rng.choice([40, 80])))]


def _wrapped_model(ctx: TestContext, target: float, end_step: int) -> Any:
    import warnings

    from labkit._tf import quiet_native_stderr

    what = f"prune_with_tfmot(model, {target:g}, {end_step})"
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ctx.student(_fresh_model(), target, end_step)
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected the wrapped Keras model — did "
                       "you forget `return`?")
    if not (hasattr(got, "layers") and hasattr(got, "get_weights") and hasattr(got, "fit")):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a Keras model",
                       _TF_HINT)
    return got


def _inner(layer: Any) -> Any:
    return getattr(layer, "layer", layer)  # a PruneLowMagnitude wrapper holds the layer


def _wrapped_names(model: Any) -> list[str]:
    return [_inner(layer).name for layer in model.layers
            if type(layer).__name__ == "PruneLowMagnitude"]


def _tfmot_copy(ctx: TestContext) -> None:
    original = _fresh_model()
    for target, end_step in _cases(ctx)[1:]:  # the random case
        got = _wrapped_model(ctx, target, end_step)
        names = [_inner(layer).name for layer in got.layers]
        expected = [layer.name for layer in original.layers]
        if names != expected:
            raise Mismatch("values", f"the returned model has the layers {names}; expected "
                           f"{expected} (some of them wrapped)",
                           "Wrap layers of the given model with clone_model(model, "
                           "clone_function=...); do not add or drop layers.")
        for layer, returned in zip(original.layers, got.layers):
            for w_got, w_ref in zip(_inner(returned).get_weights(), layer.get_weights()):
                if w_got.shape != w_ref.shape or not np.array_equal(w_got, w_ref):
                    raise Mismatch("values", f"the weights of {layer.name} are not the "
                                   "trained weights of the model you were given",
                                   "Fine-tuning starts from the trained model: wrap its own "
                                   "layers (clone_function=lambda layer: ...) — a plain "
                                   "clone_model(model) makes new random weights.")


def _tfmot_layers(ctx: TestContext) -> None:
    for target, end_step in _cases(ctx)[:1]:  # the fixed case
        kernels = {layer.name for layer in _fresh_model().layers if layer.get_weights()}
        wrapped = [name for name in _wrapped_names(_wrapped_model(ctx, target, end_step))
                   if name in kernels]  # wrapping a layer without weights changes nothing
        if sorted(wrapped) != sorted(_WRAPPED):
            told = ("no layer is wrapped: did you strip_pruning before returning? The "
                    "wrappers must stay until the fine-tune has run" if not wrapped else
                    f"the wrapped layers are {wrapped}")
            raise Mismatch("values", f"prune_with_tfmot(model, {target:g}, {end_step}): {told}; "
                           f"expected {list(_WRAPPED)} (every Conv2D and Dense layer but conv1)",
                           _TF_HINT)


def _model_key(model: Any) -> tuple:
    """The model's architecture and weights, with Keras' automatic name counters
    (``sequential_12``, ``input_3``) taken out: the same answer gives the same key."""
    import hashlib
    import json
    import re

    config = json.dumps(model.get_config(), sort_keys=True, default=str)
    config = re.sub(r'"name": "(sequential|input|input_layer|functional|model)_\d+"',
                    r'"name": "\1"', config)
    digest = hashlib.sha256(config.encode())
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return (digest.hexdigest(),)


_FINE_TUNED: dict[tuple, dict[str, Any]] = {}


def _fine_tune(model: Any, target: float, end_step: int) -> dict[str, Any]:
    """The judge's own fine-tune of a wrapped model: ``end_step + 10`` steps with
    ``UpdatePruningStep``, the masks recorded half-way, then ``strip_pruning``; the sparsity
    of each kernel and the held-out accuracy. Cached by the model's config and weights."""
    import warnings

    from labkit._tf import load, load_tfmot, quiet_native_stderr

    key = (*_model_key(model), target, end_step)
    if key in _FINE_TUNED:
        return _FINE_TUNED[key]
    _, keras = load()
    sparsity = load_tfmot().sparsity.keras
    _, ds = _digits_cnn()
    half: dict[str, float] = {}

    class Halfway(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if batch + 1 == end_step // 2:
                for layer in self.model.layers:
                    for _, mask, _ in getattr(layer, "pruning_vars", ()):
                        half[_inner(layer).name] = 1 - float(np.mean(mask.numpy()))

    order = np.resize(np.arange(len(ds.x_train)), (end_step + 10) * _BATCH)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras.utils.set_random_seed(0)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(ds.x_train[order], ds.y_train[order], batch_size=_BATCH, epochs=1,
                  shuffle=False, verbose=0, callbacks=[sparsity.UpdatePruningStep(), Halfway()])
        stripped = sparsity.strip_pruning(model)
    x_held = np.concatenate([ds.x_val, ds.x_test])
    y_held = np.concatenate([ds.y_val, ds.y_test])
    predicted = np.argmax(stripped.predict(x_held, verbose=0), axis=-1)
    result = {"half": half, "accuracy": float(np.mean(predicted == y_held)),
              "sparsity": {layer.name: float(np.mean(layer.get_weights()[0] == 0))
                           for layer in stripped.layers if layer.get_weights()}}
    if len(_FINE_TUNED) > 512:
        _FINE_TUNED.clear()
    _FINE_TUNED[key] = result
    return result


def _judged(ctx: TestContext, target: float, end_step: int) -> dict[str, Any]:
    model = _wrapped_model(ctx, target, end_step)
    if not _wrapped_names(model):
        raise Mismatch("values", f"prune_with_tfmot(model, {target:g}, {end_step}) wrapped no "
                       "layer, so the fine-tune pruned nothing", _TF_HINT)
    try:
        return _fine_tune(model, target, end_step)
    except Exception as exc:  # the wrapped model does not train
        raise Mismatch("values", f"the returned model could not be fine-tuned with "
                       f"UpdatePruningStep ({type(exc).__name__}: {str(exc)[:200]})",
                       _TF_HINT) from None


def _tfmot_schedule(ctx: TestContext) -> None:
    for target, end_step in _cases(ctx):
        run = _judged(ctx, target, end_step)
        what = f"after {end_step + 10} fine-tuning steps of prune_with_tfmot(model, {target:g}, {end_step})"
        for name in _WRAPPED:
            reached = run["sparsity"].get(name, 0.0)
            size = int(np.prod(_fresh_model().get_layer(name).get_weights()[0].shape))
            if abs(reached - target) > 1.0 / size + 1e-9:
                hint = ("Nothing was pruned: tfmot updates the masks every `frequency` steps "
                        "(100 by default), and this fine-tune is shorter: set frequency=10."
                        if reached == 0 else
                        "The schedule must end at end_step with final_sparsity=target_sparsity "
                        "(a fraction, not a percentage).")
                raise Mismatch("values", f"{what}, {name} has sparsity {reached:.1%}; expected "
                               f"{target:.0%}", hint)
        midway = run["half"]
        low, high = min(midway.values(), default=0.0), max(midway.values(), default=0.0)
        if not (0 < low and high < target - 1e-6):
            raise Mismatch("values", f"half-way (step {end_step // 2}) the masks have sparsity "
                           f"{low:.1%} to {high:.1%}; a PolynomialDecay from 0 rises "
                           f"gradually, so it should lie strictly between 0 and {target:.0%}",
                           "Use PolynomialDecay(initial_sparsity=0.0, ..., begin_step=0, "
                           "end_step=end_step, frequency=10), not ConstantSparsity.")


_REFERENCE_RUNS: dict[tuple[float, int], float] = {}


def _tfmot_accuracy(ctx: TestContext) -> None:
    for target, end_step in _cases(ctx)[1:]:  # the random case (its fine-tune is cached)
        run = _judged(ctx, target, end_step)
        if (target, end_step) not in _REFERENCE_RUNS:
            _REFERENCE_RUNS[target, end_step] = _fine_tune(
                ctx.reference(_fresh_model(), target, end_step), target, end_step)["accuracy"]
        expected = _REFERENCE_RUNS[target, end_step]
        if run["accuracy"] < expected - 0.03:
            raise Mismatch("values", f"after the same fine-tune, held-out accuracy is "
                           f"{run['accuracy']:.1%}; labkit's answer reaches {expected:.1%} "
                           f"(at most 3 points lower is accepted)",
                           "Start from the trained weights and prune gradually to the target.")
