"""Model sizes and the course's model builders (notebooks 00–05).

The pure functions here need no TensorFlow; builders import it on first call.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.validate import check_fraction, check_int, check_keras_model, check_real


def model_size_bytes(num_params: int, bits_per_weight: int) -> int:
    """Bytes needed to store ``num_params`` weights of ``bits_per_weight`` bits each.

    Weights are packed tightly and the total is rounded up to whole bytes.

    Parameters
    ----------
    num_params : int
        Number of weights, >= 0.
    bits_per_weight : int
        Bits per weight, >= 1 (32 for float32, 8 for int8, 4 for int4 ...).

    Returns
    -------
    int
        ``ceil(num_params * bits_per_weight / 8)``.

    Example
    -------
    >>> model_size_bytes(1_000, 32)
    4000
    >>> model_size_bytes(3, 4)
    2
    """
    num_params = check_int(num_params, "num_params", low=0)
    bits_per_weight = check_int(bits_per_weight, "bits_per_weight", low=1,
                                hint="32 for float32, 8 for int8")
    return -(-num_params * bits_per_weight // 8)


def build_course_cnn(input_shape: tuple[int, int, int] = (32, 32, 1), num_classes: int = 10, *,
                     width: int = 16, learning_rate: float = 3e-3, seed: int = 0):
    """The course CNN (notebooks 02–05): three 3×3 convolutions, compiled and ready to fit.

    ``conv(width) → conv(2·width) → maxpool → conv(4·width) → maxpool → flatten → dense``,
    ReLU after each convolution, softmax output. At 32×32×1 and ``width=16`` it does 9.6 M
    multiply-accumulates per image — enough work for int8 kernels to show their speed —
    and trains on digits (32×32) to about 98 % in a few epochs.

    Parameters
    ----------
    input_shape : (height, width, channels), default (32, 32, 1)
        Height and width must be multiples of 4 (two 2×2 poolings).
    num_classes : int, default 10
    width : int, default 16
        Filters of the first convolution; the next ones have 2× and 4× as many.
    learning_rate : float, default 3e-3
        Adam's learning rate (the model is compiled with sparse categorical cross-entropy
        and accuracy).
    seed : int, default 0
        Seeds Keras (``keras.utils.set_random_seed``) so the initial weights repeat.

    Returns
    -------
    tf_keras.Model
        A new, compiled, untrained model.

    Example
    -------
    >>> model = build_course_cnn(width=8)  # doctest: +SKIP
    >>> count_macs(model), model.count_params()  # doctest: +SKIP
    (2453504, 26378)
    """
    if isinstance(input_shape, str) or not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple (height, width, channels), got "
                        f"{input_shape!r}")
    shape = tuple(input_shape)
    if len(shape) != 3 or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                              or d < 1 for d in shape):
        raise ValueError(f"input_shape must be (height, width, channels) of positive ints, "
                         f"got {input_shape!r}")
    if shape[0] % 4 or shape[1] % 4:
        raise ValueError(f"input_shape must have a height and width that are multiples of 4 "
                         f"(two 2×2 poolings), got {shape[:2]}")
    num_classes = check_int(num_classes, "num_classes", low=1)
    width = check_int(width, "width", low=1)
    check_real(learning_rate, "learning_rate", low=0, include="high", hint="e.g. 3e-3 for Adam")
    check_int(seed, "seed", low=0)
    from labkit._tf import load

    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape),
        layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1"),
        layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(name="pool1"),
        layers.Conv2D(4 * width, 3, padding="same", activation="relu", name="conv3"),
        layers.MaxPooling2D(name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(num_classes, activation="softmax", name="dense"),
    ], name=f"course_cnn_w{width}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_signal_cnn(input_shape: tuple[int, ...] = (40,), num_classes: int = 10, *,
                     width: int = 32, hidden: int = 128, learning_rate: float = 3e-3,
                     seed: int = 0):
    """A CNN for 1-D signals such as MNIST-1D (notebook 04): compiled and ready to fit.

    ``reshape to (length, 1, 1) → conv(width, 5×1) → conv(width, 5×1) → maxpool →
    conv(2·width, 3×1) → maxpool → flatten → dense(hidden) → dense``, ReLU everywhere but
    the softmax output. The 1-D convolutions are written as 2-D ones with one-pixel-wide
    kernels — what the TFLite converter turns a ``Conv1D`` into anyway — so the Conv2D
    tools of labkit (pruning plans, clustering, filter counts) apply unchanged. At length 40
    and the defaults it has 94,890 parameters.

    Parameters
    ----------
    input_shape : (length,), default (40,)
        The length must be a multiple of 4 (two 2× poolings).
    num_classes : int, default 10
    width : int, default 32
        Filters of the first two convolutions; the third has twice as many.
    hidden : int, default 128
        Units of the hidden dense layer.
    learning_rate : float, default 3e-3
        Adam's learning rate (sparse categorical cross-entropy, accuracy).
    seed : int, default 0
        Seeds Keras so the initial weights repeat.

    Returns
    -------
    tf_keras.Model
        A new, compiled, untrained Sequential model.

    Example
    -------
    >>> build_signal_cnn().count_params()  # doctest: +SKIP
    94890
    """
    if isinstance(input_shape, str) or not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple (length,), got {input_shape!r}")
    shape = tuple(input_shape)
    if (len(shape) != 1 or isinstance(shape[0], bool) or not isinstance(shape[0], numbers.Integral)
            or shape[0] < 4 or shape[0] % 4):
        raise ValueError(f"input_shape must be (length,) with a length that is a positive "
                         f"multiple of 4 (two 2× poolings), got {input_shape!r}")
    num_classes = check_int(num_classes, "num_classes", low=1)
    width = check_int(width, "width", low=1)
    hidden = check_int(hidden, "hidden", low=1)
    check_real(learning_rate, "learning_rate", low=0, include="high", hint="e.g. 3e-3 for Adam")
    check_int(seed, "seed", low=0)
    from labkit._tf import load

    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape),
        layers.Reshape((shape[0], 1, 1), name="as_image"),
        layers.Conv2D(width, (5, 1), padding="same", activation="relu", name="conv1"),
        layers.Conv2D(width, (5, 1), padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D((2, 1), name="pool1"),
        layers.Conv2D(2 * width, (3, 1), padding="same", activation="relu", name="conv3"),
        layers.MaxPooling2D((2, 1), name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(hidden, activation="relu", name="hidden"),
        layers.Dense(num_classes, activation="softmax", name="dense"),
    ], name=f"signal_cnn_w{width}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def count_macs(model) -> int:
    """Multiply-accumulate operations of one forward pass (batch 1) of a tf_keras model.

    Counts convolutions (1-D/2-D/3-D, grouped, depthwise, separable) and dense layers, the
    layers that do nearly all the work; pooling, activations and additions are left out.
    Nested models are counted through.

    Example
    -------
    >>> count_macs(build_course_cnn())  # doctest: +SKIP
    9625600
    """
    check_keras_model(model, built=True)
    from labkit._tf import load

    _, keras = load()
    return sum(_layer_macs(layer, keras) for layer in model.layers)


def _layer_macs(layer, keras) -> int:
    import numpy as np

    layers = keras.layers
    if isinstance(layer, keras.Model):
        return sum(_layer_macs(inner, keras) for inner in layer.layers)
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D, layers.DepthwiseConv1D,
                          layers.DepthwiseConv2D, layers.SeparableConv1D,
                          layers.SeparableConv2D)):
        transpose = (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
        where = layer.input_shape if isinstance(layer, transpose) else layer.output_shape
        positions = int(np.prod(where[1:-1]))
        kernel = int(np.prod(layer.kernel_size))
        c_in = int(layer.input_shape[-1])
        if isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
            return positions * kernel * c_in * layer.depth_multiplier
        if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
            depthwise = positions * kernel * c_in * layer.depth_multiplier
            return depthwise + positions * c_in * layer.depth_multiplier * layer.filters
        return positions * kernel * (c_in // getattr(layer, "groups", 1)) * layer.filters
    if isinstance(layer, layers.Dense):
        rows = int(np.prod(layer.input_shape[1:-1])) if len(layer.input_shape) > 2 else 1
        return rows * int(layer.input_shape[-1]) * layer.units
    return 0


def build_mlp(hidden: Sequence[int] = (64, 64), *, l2: float = 0.0, dropout: float = 0.0,
              batch_norm: bool = False, input_len: int = 40, num_classes: int = 10,
              name: str | None = None):
    """A multilayer perceptron that outputs logits; ``hidden=()`` is logistic regression.

    Parameters
    ----------
    hidden : sequence of int
        Width of each hidden ReLU layer.
    l2 : float
        L2 weight decay on every kernel: ``l2 * sum(w ** 2)`` is added to the loss.
    dropout : float
        Fraction of each hidden layer's units dropped in training, in [0, 1).
    batch_norm : bool
        Batch normalization between each hidden Dense layer and its ReLU.

    Example
    -------
    >>> build_mlp((16,)).count_params()  # 40*16 + 16 + 16*10 + 10
    826
    """
    if isinstance(hidden, str) or not isinstance(hidden, (Sequence, np.ndarray)):
        raise TypeError(f"hidden must be a sequence of layer widths, e.g. (64, 64), got {hidden!r}")
    for i, width in enumerate(hidden):
        check_int(width, f"hidden[{i}]", low=1, hint="hidden lists positive layer widths")
    check_real(l2, "l2", low=0)
    check_fraction(dropout, "dropout", interval="[0, 1)")
    check_int(input_len, "input_len", low=1)
    check_int(num_classes, "num_classes", low=1)
    from labkit._tf import load

    _, keras = load()
    reg = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.layers.Input((input_len,))]
    for width in hidden:
        layers.append(keras.layers.Dense(width, kernel_regularizer=reg, use_bias=not batch_norm))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.ReLU())
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(num_classes, kernel_regularizer=reg))
    return keras.Sequential(layers, name=name)


def build_cnn(channels: int = 25, *, input_len: int = 40, num_classes: int = 10,
              name: str | None = None):
    """The small 1-D CNN of the MNIST-1D paper: three strided convolutions, then logits.

    Conv1D(channels, 5, stride 2) → Conv1D(channels, 3, stride 2) → Conv1D(channels, 3,
    stride 2), ReLU after each, flatten, Dense(num_classes).

    Example
    -------
    >>> build_cnn().count_params()
    5210
    """
    for label, value in (("channels", channels), ("input_len", input_len),
                         ("num_classes", num_classes)):
        check_int(value, label, low=1)
    from labkit._tf import load

    _, keras = load()
    conv = keras.layers.Conv1D
    return keras.Sequential([
        keras.layers.Input((input_len,)),
        keras.layers.Reshape((input_len, 1)),
        conv(channels, 5, strides=2, padding="same", activation="relu"),
        conv(channels, 3, strides=2, padding="same", activation="relu"),
        conv(channels, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(num_classes),
    ], name=name)


def _gesture_cnn(input_shape: tuple[int, int], num_classes: int, filters: Sequence[int],
                 kernel_size: int, learning_rate: float, seed: int) -> Any:
    from labkit._tf import load

    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    window = keras.Input(tuple(input_shape), name="window")
    gravity = layers.GlobalAveragePooling1D(keepdims=True, name="gravity")(window)
    x = layers.Subtract(name="remove_gravity")([window, gravity])
    for i, f in enumerate(filters, start=1):
        x = layers.Conv1D(int(f), kernel_size, strides=2, activation="relu", name=f"conv{i}")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    scores = layers.Dense(num_classes, activation="softmax", name="dense")(x)
    name = "gesture_cnn_" + "_".join(str(int(f)) for f in filters)
    model = keras.Model(window, scores, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_gesture_cnn(input_shape: tuple[int, int] = (125, 3), num_classes: int = 4, *,
                      width: int = 16, kernel_size: int = 5, learning_rate: float = 3e-3,
                      seed: int = 0) -> Any:
    """A small 1-D CNN on raw accelerometer windows, compiled and ready to fit.

    ``window − its mean (gravity) → conv(width) → conv(2·width) → conv(2·width) → global
    average pool → dense``: three strided (2) convolutions with ReLU, softmax output. The
    mean subtraction is part of the model (MEAN and SUB operators), so the device feeds it
    raw m/s² values; the person's grip, which puts gravity on different axes, is no shortcut.

    Parameters
    ----------
    input_shape : (window_len, n_axes), default (125, 3)
    num_classes : int, default 4
    width : int, default 16
        Filters of the first convolution.
    kernel_size : int, default 5
    learning_rate : float, default 3e-3
        Adam's; the loss is sparse categorical cross-entropy.
    seed : int, default 0
        Seeds Keras so the initial weights repeat.

    Returns
    -------
    tf_keras.Model
    """
    if isinstance(input_shape, str) or not isinstance(input_shape, (tuple, list)) \
            or len(input_shape) != 2:
        raise TypeError(f"input_shape must be a tuple (window_len, n_axes), got {input_shape!r}")
    length = check_int(input_shape[0], "input_shape[0]", low=16, hint="at least 16 samples")
    axes = check_int(input_shape[1], "input_shape[1]", low=1)
    width = check_int(width, "width", low=1)
    return _gesture_cnn((length, axes), check_int(num_classes, "num_classes", low=2),
                        (width, 2 * width, 2 * width), check_int(kernel_size, "kernel_size",
                                                                 low=1, high=7),
                        learning_rate, check_int(seed, "seed", low=0))
