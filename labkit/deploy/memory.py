"""Memory on the microcontroller: the TFLite Micro arena, flash, the budget (notebook 09).

- :func:`arena_fits` and :func:`minimum_arena_bytes` (exercise ``09.minimum_arena_bytes``): the
  smallest tensor arena, found by search with the TFLite Micro interpreter;
- :func:`flash_bytes`: model plus the runtime's code (:data:`RUNTIME_FLASH_BYTES`, an estimate);
- :class:`Budget` and :data:`BUDGET`: the challenge's flash, RAM and accuracy targets.

Example
-------
>>> BUDGET
Budget(model <= 12,288 B of flash, arena <= 6,144 B of RAM, held-out accuracy >= 95%)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.validate import check_int, check_model_bytes

# TFLite Micro's code in flash, an ESTIMATE: "the core runtime just fits in 16 KB on an Arm
# Cortex M3", and with the operators of a keyword-spotting model 22 KB (TensorFlow, "TensorFlow
# Lite for Microcontrollers" overview, https://www.tensorflow.org/lite/microcontrollers).
RUNTIME_FLASH_BYTES = 22 * 1024


@dataclass(frozen=True)
class Budget:
    """The challenge of notebook 09: what a model may use on the target, and how good it must be.

    ``model_flash_bytes`` bounds the ``.tflite`` file (stored in flash next to the runtime),
    ``arena_bytes`` the TFLite Micro tensor arena (RAM), ``accuracy`` the held-out accuracy
    measured in TFLite Micro.
    """

    model_flash_bytes: int
    arena_bytes: int
    accuracy: float

    def __repr__(self) -> str:
        return (f"Budget(model <= {self.model_flash_bytes:,} B of flash, arena <= "
                f"{self.arena_bytes:,} B of RAM, held-out accuracy >= {self.accuracy:.0%})")


# A wearable's firmware leaves the model 12 KB of flash and 6 KB of RAM: the radio stack, the
# sensor driver and the application take the rest. Chosen so that the float32 CNN and its
# plain int8 conversion miss, and a pruned int8 CNN fits (notebook 09 measures all three).
BUDGET = Budget(model_flash_bytes=12 * 1024, arena_bytes=6 * 1024, accuracy=0.95)


# Memory on the microcontroller (exercise 09.minimum_arena_bytes)
# --------------------------------------------------------------------------------------

def _runs(model_bytes: bytes, arena_bytes: int, num_inputs: int) -> bool:
    """Does TFLite Micro load the model in an arena of ``arena_bytes`` and invoke it once?"""
    from tflite_micro.python.tflite_micro import runtime as micro

    from labkit.runtime.backend import capture_native_stderr

    with capture_native_stderr():
        try:
            interpreter = micro.Interpreter.from_bytes(model_bytes, arena_size=arena_bytes)
            for i in range(num_inputs):
                detail = interpreter.get_input_details(i)
                interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
            interpreter.invoke()
        except RuntimeError:
            return False
    return True


def _num_inputs(model_bytes: bytes) -> int:
    from labkit.runtime import describe

    return len(describe(model_bytes).inputs)


def arena_fits(model_bytes: bytes, arena_bytes: int) -> bool:
    """Whether TFLite Micro loads the model with a tensor arena of ``arena_bytes`` and runs it
    once (input zeros).

    Example
    -------
    >>> arena_fits(model_bytes, 4096)  # doctest: +SKIP
    True
    """
    model_bytes = check_model_bytes(model_bytes)
    return _runs(model_bytes, check_int(arena_bytes, "arena_bytes", low=1), _num_inputs(model_bytes))


_MAX_ARENA_BYTES = 256 * 2**20


def minimum_arena_bytes(model_bytes: bytes) -> int:
    """The smallest tensor arena (bytes) with which TFLite Micro loads and runs the model.

    ``Interpreter.from_bytes(model_bytes, arena_size=n)`` and one ``invoke()`` on zeros
    succeed for every ``n`` from the answer up and fail below it: double ``n`` from 1024 until
    it works, then bisect between the last failure and the first success.

    Raises
    ------
    ValueError
        If the model does not run even with a 256 MiB arena (e.g. a float16 model), with
        TFLite Micro's reason.

    Example
    -------
    >>> minimum_arena_bytes(model_bytes)  # doctest: +SKIP
    5496
    """
    model_bytes = check_model_bytes(model_bytes)
    inputs = _num_inputs(model_bytes)
    low, high = 0, 1024
    while not _runs(model_bytes, high, inputs):
        if high >= _MAX_ARENA_BYTES:
            from labkit.runtime import runs_on_micro

            raise ValueError(f"model_bytes does not run on TFLite Micro even with a "
                             f"{_MAX_ARENA_BYTES >> 20} MiB arena: "
                             f"{runs_on_micro(model_bytes).reason}")
        low, high = high, 2 * high
    while high - low > 1:  # invariant: low fails (or is 0), high works
        middle = (low + high) // 2
        if _runs(model_bytes, middle, inputs):
            high = middle
        else:
            low = middle
    return high


def flash_bytes(model_bytes: bytes, *, runtime_bytes: int = RUNTIME_FLASH_BYTES) -> int:
    """Flash a deployment needs: the model file plus the runtime's code (an estimate,
    :data:`RUNTIME_FLASH_BYTES`)."""
    return len(check_model_bytes(model_bytes)) + check_int(runtime_bytes, "runtime_bytes", low=0)


# --------------------------------------------------------------------------------------
