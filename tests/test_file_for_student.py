"""ctx.file_for_student: a file or folder the judge writes reaches the student's code, the
same path in the notebook and a read-only copy under /judge in the real sandbox."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Test, run_exercise

READER = ("from pathlib import Path\n"
          "def reads(folder):\n"
          "    return (Path(folder) / 'data' / 'values.txt').read_text()\n"
          "def writes(folder):\n"
          "    (Path(folder) / 'data' / 'values.txt').write_text('changed')\n"
          "    return 'wrote'\n")


def _folder_test(ctx):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "data").mkdir()
        (Path(folder) / "data" / "values.txt").write_text("1 2 3")
        shared = ctx.file_for_student(folder)
        got = ctx.student(shared)
        if got != "1 2 3":
            raise Mismatch("values", f"read {got!r}")


EXERCISE = Exercise("99.reads", "read a folder", "reads", reference=lambda folder: "",
                    tests=(Test("folder", 1, _folder_test),))


def _namespace():
    namespace = {}
    exec(READER, namespace)  # the student's code, in this process (as check() runs it)
    return namespace


def test_in_the_notebook_the_path_is_the_folder_itself():
    assert run_exercise(EXERCISE, [_namespace()["reads"]], seed=0).score == 1


def test_a_missing_path_is_a_test_error_not_a_student_error():
    from labkit.grading.core import Student, TestContext

    ctx = TestContext(Student(lambda p: p, EXERCISE, 1.0), EXERCISE.reference, None)
    with pytest.raises(FileNotFoundError):
        ctx.file_for_student("/nonexistent/labkit")


@pytest.mark.slow
def test_in_the_sandbox_the_copy_is_readable_and_read_only():
    from labkit.grading.sandbox import Sandbox, sandbox_problem

    if sandbox_problem():
        pytest.skip(sandbox_problem())
    with tempfile.TemporaryDirectory() as work:
        with Sandbox([(0, READER)], ["reads", "writes"], blocked=[], workdir=Path(work)) as box:
            box.start()
            assert run_exercise(EXERCISE, [], seed=0, sandbox=box).score == 1
            shared = sorted((Path(work) / "judge").glob("shared-*"))
            assert shared and (shared[0] / "data" / "values.txt").read_text() == "1 2 3"
            inside = "/judge/" + shared[0].name
            with pytest.raises(Exception, match="Read-only|read-only|Permission|denied"):
                box.call("writes", (inside,), {}, 30)
            assert (shared[0] / "data" / "values.txt").read_text() == "1 2 3"
