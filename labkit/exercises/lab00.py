"""Exercises of notebook 00_welcome_and_setup: a warm-up that walks the whole grading path."""

from __future__ import annotations

from labkit.grading.core import Exercise, Test, TestContext
from labkit.models import model_size_bytes

_HINT = "bytes = bits / 8, and a partly used byte still has to be stored."


def _whole_bytes(ctx: TestContext) -> None:
    for params, bits in [(1000, 32), (250, 8), (7, 16)]:
        ctx.expect_equal(ctx.student(params, bits), ctx.reference(params, bits),
                         what=f"model_size_bytes({params}, {bits})", hint=_HINT)


def _partial_bytes(ctx: TestContext) -> None:
    for params, bits in [(3, 4), (5, 1), (1, 2), (10, 3)]:
        ctx.expect_equal(ctx.student(params, bits), ctx.reference(params, bits),
                         what=f"model_size_bytes({params}, {bits})",
                         hint="Round up: 3 weights of 4 bits need 12 bits, which is 2 bytes.")


def _random_models(ctx: TestContext) -> None:
    for _ in range(20):
        params = int(ctx.rng.integers(0, 5_000_000))
        bits = int(ctx.rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 16, 32]))
        ctx.expect_equal(ctx.student(params, bits), ctx.reference(params, bits),
                         what=f"model_size_bytes({params}, {bits})", hint=_HINT)


EXERCISES = (
    Exercise(
        id="00.model_size_bytes",
        title="How many bytes do the weights take?",
        name="model_size_bytes",
        reference=model_size_bytes,
        tests=(
            Test("whole bytes", 1, _whole_bytes),
            Test("bits that do not fill a byte", 1, _partial_bytes),
            Test("random models", 1, _random_models),
        ),
        hint=_HINT,
    ),
)
