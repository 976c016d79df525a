"""The exercise machinery: check(), staged comparisons, time limits, reference blocking."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labkit.grading import CheckFailed, check, get_exercise, lab_exercises
from labkit.grading.compare import Mismatch, expect_array, expect_close, expect_equal
from labkit.grading.core import Exercise, Test, run_exercise
from labkit.models import model_size_bytes as reference


def right(num_params, bits_per_weight):
    return -(-num_params * bits_per_weight // 8)


def test_check_prints_one_line_on_success(capsys):
    check("00.model_size_bytes", right)
    assert capsys.readouterr().out.strip() == "✓ 00.model_size_bytes — 3/3 points"


def test_not_attempted_is_reported_not_raised(capsys):
    def stub(num_params, bits_per_weight):
        raise NotImplementedError()

    check("00.model_size_bytes", stub)
    out = capsys.readouterr().out
    assert "not attempted" in out and "0/3" in out


def floor(num_params, bits_per_weight):
    return num_params * bits_per_weight // 8


def test_wrong_answer_shows_two_lines_with_seed_and_hint_and_does_not_raise(capsys):
    assert check("00.model_size_bytes", floor, seed=7) is None  # Run All carries on
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✗ 00.model_size_bytes — 1/3 points [values]")
    assert "expected" in lines[0] and "seed=7" in lines[1] and "Hint" in lines[1]


def test_under_nbgrader_zero_points_raise_and_partial_points_are_the_result(monkeypatch, capsys):
    """What nbgrader reads from a grade cell: an error is 0, a number is partial credit,
    nothing (and no stderr) is full marks."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(CheckFailed) as info:
        check("00.model_size_bytes", lambda n, b: 0, seed=7)
    assert len(info.value._render_traceback_()) == 2

    def stub(num_params, bits_per_weight):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not attempted"):
        check("00.model_size_bytes", stub)
    capsys.readouterr()
    assert check("00.model_size_bytes", floor, seed=7) == 1
    assert capsys.readouterr().out.startswith("✗ 00.model_size_bytes — 1/3 points")

    def noisy(num_params, bits_per_weight):
        import sys
        import warnings

        warnings.warn("careful", stacklevel=2)
        print("debugging", file=sys.stderr)
        return right(num_params, bits_per_weight)

    assert check("00.model_size_bytes", noisy) is None
    captured = capsys.readouterr()
    assert captured.out.startswith("✓") and captured.err == ""


@pytest.mark.parametrize("answer, stage", [
    (lambda n, b: None, "type"),
    (lambda n, b: float(-(-n * b // 8)), "type"),
    (lambda n, b: [1], "type"),
    (lambda n, b: 1 / 0, "error"),
    (lambda n, b: float("nan"), "type"),
    (42, "callable"),
])
def test_anything_a_student_returns_is_survived(answer, stage):
    result = run_exercise(get_exercise("00.model_size_bytes"), [answer], seed=1)
    assert result.status == "failed" and result.score == 0
    assert result.stage == stage, result.message


def test_exception_message_names_it():
    def boom(n, b):
        raise KeyError("weights")

    result = run_exercise(get_exercise("00.model_size_bytes"), [boom], seed=1)
    assert "KeyError" in result.message


def test_function_that_never_returns_is_stopped_quickly():
    def forever(n, b):
        while True:
            pass

    ex = get_exercise("00.model_size_bytes")
    fast = Exercise(ex.id, ex.title, ex.name, ex.reference,
                    tuple(Test(t.name, t.points, t.run, time_limit_s=0.5) for t in ex.tests))
    start = time.monotonic()
    result = run_exercise(fast, [forever], seed=1)
    assert result.stage == "time limit" and result.score == 0
    assert time.monotonic() - start < 3


def test_except_exception_cannot_swallow_the_time_limit():
    def sneaky(n, b):
        try:
            while True:
                pass
        except Exception:
            return right(n, b)

    ex = get_exercise("00.model_size_bytes")
    fast = Exercise(ex.id, ex.title, ex.name, ex.reference,
                    tuple(Test(t.name, t.points, t.run, time_limit_s=0.3) for t in ex.tests))
    assert run_exercise(fast, [sneaky], seed=1).stage == "time limit"


def test_calling_the_reference_scores_zero():
    def lazy(n, b):
        return reference(n, b)

    result = run_exercise(get_exercise("00.model_size_bytes"), [lazy], seed=1)
    assert result.score == 0 and result.stage == "reference"
    assert reference(3, 4) == 2  # outside a check the reference works as usual


def test_seed_replays_the_same_inputs():
    seen: list[list[tuple]] = [[], []]
    for run in range(2):
        def spy(n, b, log=seen[run]):
            log.append((n, b))
            return right(n, b)

        run_exercise(get_exercise("00.model_size_bytes"), [spy], seed=99)
    assert seen[0] == seen[1] and len(seen[0]) > 5


def test_fresh_seeds_give_fresh_inputs():
    seen: list[tuple] = []

    def spy(n, b):
        seen.append((n, b))
        return right(n, b)

    run_exercise(get_exercise("00.model_size_bytes"), [spy], seed=1)
    first = list(seen)
    seen.clear()
    run_exercise(get_exercise("00.model_size_bytes"), [spy], seed=2)
    assert first != seen


def test_unknown_exercise_and_bad_ids_are_clear():
    with pytest.raises(KeyError, match="lab 00 has: 00.model_size_bytes"):
        get_exercise("00.nope")
    with pytest.raises(ValueError, match="'NN.name'"):
        get_exercise("quantize")
    assert lab_exercises("42") == ()


def test_expect_array_stages():
    exp = np.arange(6, dtype=np.int8).reshape(2, 3)
    for got, stage in [(None, "type"), (np.zeros(6), "shape"),
                       (exp.astype(np.float32), "dtype"), (exp + 1, "values")]:
        with pytest.raises(Mismatch) as info:
            expect_array(got, exp, what="q", kind="i")
        assert info.value.stage == stage
    expect_array(exp.copy(), exp, what="q", kind="i")


def test_expect_array_reports_nan_and_abbreviates_huge_arrays():
    with pytest.raises(Mismatch, match="NaN"):
        expect_array(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), what="x")
    big = np.zeros(1_000_000)
    with pytest.raises(Mismatch) as info:
        expect_array(big + 1, big, what="x")
    assert len(info.value.message) < 300


def test_expect_close_and_equal():
    expect_close(np.float32(0.1), 0.1, what="s", rtol=1e-6)
    with pytest.raises(Mismatch, match="expected a number"):
        expect_close("0.1", 0.1, what="s")
    with pytest.raises(Mismatch, match="expected 3"):
        expect_equal(4, 3, what="n")
    with pytest.raises(Mismatch, match="expected None"):
        expect_equal(0, None, what="n")
    with pytest.raises(Mismatch, match="expected int"):
        expect_equal(True, 1, what="n")


def test_a_result_the_test_cannot_use_is_a_short_failure():
    def needs_a_sequence(ctx):
        ctx.expect_equal(len(ctx.student(2)), 2, what="len(f(2))")

    ex = Exercise("99.pair", "Pair", name="pair", reference=lambda x: (x, x),
                  tests=(Test("pair", 1, needs_a_sequence),))
    result = run_exercise(ex, [lambda x: 5], seed=0)
    assert result.status == "failed" and result.stage == "type"
    assert "TypeError" in result.message
