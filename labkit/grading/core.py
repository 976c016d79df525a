"""Exercises, their tests, and the in-notebook ``check``.

An :class:`Exercise` is registered once, in ``labkit/exercises/labNN.py``: its id
(``"NN.name"``), title, the name the student defines, the reference implementation and a
list of :class:`Test` objects, each worth some points. :func:`check` runs the tests on what
the student passed; the batch grader (``labkit grade``) runs the same tests on the names a
submission defined.

Every call into student code goes through :class:`Student`, which

- turns ``NotImplementedError`` into "not attempted" and any other exception into a short
  failure naming the exception,
- stops a call that runs longer than the test's time limit,
- makes labkit's own references of the lab (and the functions listed as computing the same
  thing) unavailable while the student's code runs.

A test that hands the student a file or a folder (a SavedModel directory) writes it in a
temporary folder and passes ``ctx.file_for_student(path)``: the same path in the notebook,
a read-only copy inside the sandbox under the batch grader.

In the notebook (:func:`~labkit.grading.check.check`) the student's function is called
directly. The batch grader's judge uses :class:`RemoteStudent` instead: the same tests call
the student's function inside a sandbox, with plain data, so nothing the notebook did can
change how it is judged.

Example
-------
>>> from labkit.grading.core import Exercise, Test, run_exercise
>>> def same_as_reference(ctx):
...     ctx.expect_close(ctx.student(3), ctx.reference(3), what="f(3)")
>>> ex = Exercise("99.double", "Double a number", name="double",
...               reference=lambda x: 2 * x, tests=(Test("f(3)", 1, same_as_reference),))
>>> run_exercise(ex, [lambda x: x + x], seed=0).score
1
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labkit.grading.compare import Mismatch, expect_array, expect_close, expect_equal

DEFAULT_TIME_LIMIT_S = 10.0


class NotAttempted(Exception):
    """The student's function still raises ``NotImplementedError``."""


class ReferenceUsed(Exception):
    """The student's code called labkit's own reference for the exercise being checked."""


class StudentError(Exception):
    """The student's code raised; the message names the exception and where it came from."""


class TimeLimit(BaseException):
    """The student's code ran longer than the test allows.

    A ``BaseException`` so that a student's ``except Exception:`` cannot swallow it.
    """


@dataclass(frozen=True)
class Test:
    """One graded test: a name, its points and ``run(ctx)`` that raises on a mismatch."""

    __test__ = False  # not a pytest test class

    name: str
    points: int
    run: Callable[[TestContext], None]
    time_limit_s: float = DEFAULT_TIME_LIMIT_S


@dataclass(frozen=True)
class Exercise:
    """An exercise of lab ``NN``: the student defines ``name``; ``tests`` grade it."""

    id: str
    title: str
    name: str
    reference: Callable[..., Any]
    tests: tuple[Test, ...]
    hint: str = ""
    equivalents: tuple[Callable[..., Any], ...] = ()  # other labkit functions giving the answer

    @property
    def blocked(self) -> tuple[Callable[..., Any], ...]:
        """The labkit functions a student may not call while this exercise is graded."""
        return (self.reference, *self.equivalents)

    @property
    def lab(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tests)


@dataclass
class Result:
    """What one exercise scored, with the first failure's stage, message and hint."""

    exercise_id: str
    score: int
    max_score: int
    status: str  # "passed", "failed", "not attempted", "missing"
    stage: str = ""
    message: str = ""
    hint: str = ""
    seed: int | None = None
    passed_tests: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Result {self.exercise_id}: {self.score}/{self.max_score} {self.status}>"

    def line(self) -> str:
        """The one line shown in the notebook and the feedback file."""
        pts = f"{self.score}/{self.max_score} points"
        if self.status == "passed":
            return f"✓ {self.exercise_id} — {pts}"
        if self.status == "not attempted":
            return (
                f"○ {self.exercise_id} — not attempted yet ({pts}): replace "
                "`raise NotImplementedError()` with your code and run the check again."
            )
        if self.status == "missing":
            return f"✗ {self.exercise_id} — {pts}: {self.message}"
        return f"✗ {self.exercise_id} — {pts} [{self.stage}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Student:
    """A guarded handle on the student's object for one test (see module docstring)."""

    def __init__(self, obj: Any, exercise: Exercise, time_limit_s: float):
        self.obj = obj
        self._exercise = exercise
        self._time_limit_s = time_limit_s

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not callable(self.obj):
            raise Mismatch(
                "callable",
                f"`{self._exercise.name}` should be a function, got {type(self.obj).__name__}",
                "Define it with `def " + self._exercise.name + "(...):` and run that cell.",
            )
        if _is_reference(self.obj, self._exercise.lab):
            raise ReferenceUsed(f"`{self._exercise.name}` is labkit's own reference, not your "
                                "code; write the computation yourself")
        with references_blocked(self._exercise.lab, getattr(self.obj, "__globals__", None)):
            return _call_limited(self.obj, args, kwargs, self._time_limit_s)

    def share(self, path: Path) -> str:
        """The student's function runs in this process: it reads ``path`` where it is."""
        return str(path)


class RemoteStudent:
    """The student's function running in a sandbox (see :mod:`labkit.grading.sandbox`).

    Arguments and results cross as plain data; what the sandbox says about an exception
    only ever costs the student points, never earns them.
    """

    def __init__(self, sandbox: Any, exercise: Exercise, time_limit_s: float):
        self._sandbox = sandbox
        self._exercise = exercise
        self._time_limit_s = time_limit_s

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from labkit.grading import sandbox as sb
        from labkit.grading.wire import NotPlainData

        name = self._exercise.name
        try:
            return self._sandbox.call(name, args, kwargs, self._time_limit_s)
        except sb.RemoteError as exc:
            raise _remote_exception(exc) from None
        except NotPlainData as exc:
            raise Mismatch("type", f"`{name}` returned {exc}, which the grader cannot take: "
                           "return numbers, strings, booleans, None, bytes, numpy arrays, or "
                           "lists/tuples/dicts of these") from None
        except sb.SandboxError as exc:
            raise StudentError(str(exc)) from None
        except TimeoutError:
            raise StudentError("defining the answers again (after a crash) took too long") from None

    def share(self, path: Path) -> str:
        """A read-only copy of ``path`` in the sandbox's judge folder; its path inside."""
        return self._sandbox.share(path)


def _remote_exception(exc: Any) -> BaseException:
    if exc.kind == "NotImplementedError":
        return NotAttempted()
    if exc.kind == "ReferenceUsed":
        return ReferenceUsed(str(exc))
    if exc.kind == "TimeLimit":
        return TimeLimit(str(exc))
    if exc.kind == "RecursionError":
        return StudentError("your function recursed without end (RecursionError)")
    if exc.kind == "NotPlainData":
        return Mismatch("type", f"your function returned {exc}, which the grader cannot take: "
                        "return numbers, strings, booleans, None, bytes, numpy arrays, or "
                        "lists/tuples/dicts of these")
    return StudentError(f"your function raised {exc.kind}: {exc}")


class TestContext:
    """What a test sees: the guarded ``student``, the ``reference`` and a seeded ``rng``."""

    __test__ = False

    expect_close = staticmethod(expect_close)
    expect_array = staticmethod(expect_array)
    expect_equal = staticmethod(expect_equal)

    def __init__(self, student: Student, reference: Callable[..., Any], rng: np.random.Generator):
        self.student = student
        self.reference = reference
        self.rng = rng

    def file_for_student(self, path: str | Path) -> str:
        """The path at which the student's code can read ``path``, a file or a folder the
        test wrote (a SavedModel directory, a data file): ``path`` itself when the function
        runs here (``check`` in the notebook), a read-only copy under ``/judge`` in the
        batch grader's sandbox. Pass the returned string to ``ctx.student``."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist; write it before sharing it")
        return self.student.share(path)


_MODULES_SEEN: list[Any] = [-1, []]  # len(sys.modules) when last listed, and the names


def _labkit_modules() -> list[Any]:
    """``__main__`` and every loaded labkit module (the list is redone when modules load)."""
    if _MODULES_SEEN[0] != len(sys.modules):
        _MODULES_SEEN[:] = [len(sys.modules), [
            name for name in list(sys.modules)
            if name == "__main__" or name == "labkit" or name.startswith("labkit.")]]
    return [m for m in map(sys.modules.get, _MODULES_SEEN[1]) if m is not None]


@contextlib.contextmanager
def references_blocked(lab: str, namespace: dict[str, Any] | None = None) -> Iterator[None]:
    """While active, labkit's references of ``lab`` raise :class:`ReferenceUsed`.

    Every name bound to one of them in a loaded labkit module, in the notebook's own
    namespace (``__main__``) or in ``namespace`` (the student function's globals) is
    swapped for a stub, and put back afterwards. This informs
    the student in the notebook; the batch grader does not rely on it (its sandbox has no
    references at all).
    """
    from labkit.grading.registry import lab_exercises

    stubs = {}
    for exercise in lab_exercises(lab):
        for fn in exercise.blocked:
            stubs[id(fn)] = (fn, _stub_for(fn, exercise.id))
    spaces = [getattr(module, "__dict__", {}) for module in _labkit_modules()]
    if isinstance(namespace, dict):
        spaces.append(namespace)
    swapped = []
    for space in spaces:
        for key, value in list(space.items()):
            entry = stubs.get(id(value))
            if entry is not None and entry[0] is value:
                space[key] = entry[1]
                swapped.append((space, key, value))
    try:
        yield
    finally:
        for space, key, value in reversed(swapped):
            space[key] = value


def _is_reference(obj: Any, lab: str) -> bool:
    from labkit.grading.registry import lab_exercises

    return any(obj is fn for exercise in lab_exercises(lab) for fn in exercise.blocked)


def _stub_for(fn: Callable[..., Any], exercise_id: str) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:
        raise ReferenceUsed(f"your code calls labkit's own `{fn.__module__}.{fn.__name__}`, "
                            f"which gives the answer of {exercise_id}; write the computation "
                            "yourself")

    return stub


def _call_limited(fn: Callable[..., Any], args: tuple, kwargs: dict, seconds: float) -> Any:
    """Call ``fn`` with a wall-time limit; exceptions become Mismatch / NotAttempted."""
    try:
        if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
            return _call_with_alarm(fn, args, kwargs, seconds)
        return _call_in_thread(fn, args, kwargs, seconds)
    except (NotAttempted, ReferenceUsed, TimeLimit, Mismatch):
        raise
    except NotImplementedError as exc:
        raise NotAttempted() from exc
    except RecursionError as exc:
        raise StudentError("your function recursed without end (RecursionError)") from exc
    except Exception as exc:  # student code may raise anything
        raise StudentError(f"your function raised {type(exc).__name__}: {exc}") from exc


def _call_with_alarm(fn: Callable[..., Any], args: tuple, kwargs: dict, seconds: float) -> Any:
    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeLimit(f"your function did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call_in_thread(fn: Callable[..., Any], args: tuple, kwargs: dict, seconds: float) -> Any:
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(fn, *args, **kwargs)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimit(f"your function did not return within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def run_exercise(exercise: Exercise, objects: Sequence[Any], *, seed: int,
                 sandbox: Any = None) -> Result:
    """Run every test of ``exercise`` on ``objects[0]`` and return the :class:`Result`.

    With ``sandbox`` (a started :class:`~labkit.grading.sandbox.Sandbox`) the tests call
    the student's function there instead, and ``objects`` is ignored.
    """
    result = Result(exercise.id, 0, exercise.points, "passed", seed=seed)
    if sandbox is None and len(objects) != 1:
        return _failed(result, "call", f"check takes one object, got {len(objects)}",
                       f'Call check("{exercise.id}", {exercise.name}).')
    for index, test in enumerate(exercise.tests):
        student = (RemoteStudent(sandbox, exercise, test.time_limit_s) if sandbox is not None
                   else Student(objects[0], exercise, test.time_limit_s))
        ctx = TestContext(student, exercise.reference, np.random.default_rng([seed, index]))
        try:
            test.run(ctx)
        except NotAttempted:
            result.status = "not attempted"
            result.score = 0
            return result
        except ReferenceUsed as exc:
            result.score = 0
            return _failed(result, "reference", str(exc), "The check needs your own code.")
        except Mismatch as exc:
            if result.status == "passed":
                _failed(result, exc.stage, f"{test.name}: {exc.message}", exc.hint)
            continue
        except TimeLimit as exc:  # later tests would hang too: stop here
            return _failed(result, "time limit", f"{test.name}: {exc}",
                           "Look for a loop that never ends.")
        except StudentError as exc:
            if result.status == "passed":
                _failed(result, "error", f"{test.name}: {exc}", exercise.hint)
            continue
        except Exception as exc:  # the test could not use what the student's code returned
            if result.status == "passed":
                _failed(result, "type", f"{test.name}: the result could not be used "
                        f"({type(exc).__name__}: {exc})", exercise.hint or
                        "Return exactly the types and shapes the exercise asks for.")
            continue
        result.score += test.points
        result.passed_tests.append(test.name)
    return result


def _failed(result: Result, stage: str, message: str, hint: str) -> Result:
    result.status = "failed"
    result.stage = stage
    result.message = message
    result.hint = hint
    return result
