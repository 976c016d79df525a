"""The process inside the sandbox: runs a submission's answers and serves calls to them.

Started by :class:`labkit.grading.sandbox.Sandbox` as ``python -I -B -m
labkit.grading.inside``. It speaks length-prefixed JSON on its standard input and on a
duplicate of its standard output; the student's own prints go to ``/dev/null``. Nothing
here is trusted by the judge: the student's code runs in this very process and could
replace any of it. What this process says is only ever a claim that the judge checks: the
judge decides every score from the plain data it gets back.

Messages (judge → here): ``{"op": "load", "statements": [[cell, source], ...], "names":
[...]}`` then ``{"op": "call", "name": ..., "args": <wire>, "kwargs": <wire>,
"time_limit": s}``. Replies: ``{"ready": {...}}``, ``{"ok": <wire>, "after": <wire>}`` or
``{"error": {"type": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
import traceback
from typing import Any, BinaryIO

from labkit.grading import wire

REFERENCE_BLOCKED = "labkit-reference-unavailable:"  # the stubs' message starts with this
STATEMENT_TIME_LIMIT_S = 120.0


class _Alarm(BaseException):
    pass


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return json.loads(stream.read(size).decode("utf-8"))


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm()


def _limited(seconds: float, fn: Any, *args: Any, **kwargs: Any) -> Any:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error(exc: BaseException, time_limit: float) -> dict[str, Any]:
    if isinstance(exc, _Alarm):
        return {"type": "TimeLimit", "message": f"your function did not return within {time_limit:g} s"}
    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(str(e).startswith(REFERENCE_BLOCKED) for e in chain):
        message = next(str(e) for e in chain if str(e).startswith(REFERENCE_BLOCKED))
        return {"type": "ReferenceUsed", "message": message[len(REFERENCE_BLOCKED):].strip()}
    return {"type": type(exc).__name__, "message": _short(str(exc))}


def _run_statements(statements: list[list[Any]], namespace: dict[str, Any]) -> list[str]:
    """Run the kept statements in order; a failing one is noted and the rest still run."""
    notes = []
    for cell, source in statements:
        try:
            code = compile(source, f"<cell {cell}>", "exec")
            _limited(STATEMENT_TIME_LIMIT_S, exec, code, namespace)
        except _Alarm:
            notes.append(f"cell {cell} ran longer than {STATEMENT_TIME_LIMIT_S:g} s")
        except BaseException as exc:  # the student's code may raise anything, even SystemExit
            last = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" (line {last[0].lineno})" if last and last[0].filename.startswith("<cell") else ""
            notes.append(_short(f"cell {cell} raised {type(exc).__name__}{where}: {exc}", 300))
    return notes


def _name_status(namespace: dict[str, Any], name: str) -> str:
    if name not in namespace:
        return "missing"
    return "callable" if callable(namespace[name]) else f"not callable: {type(namespace[name]).__name__}"


def _call(namespace: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    limit = float(request.get("time_limit", 10.0))
    try:
        args = wire.decode(request["args"].encode(), load_model=wire.load_keras_model)
        kwargs = wire.decode(request["kwargs"].encode(), load_model=wire.load_keras_model)
    except Exception as exc:  # an argument the judge sent could not be rebuilt here
        return {"error": {"type": "GraderInputError", "message": _short(str(exc))}}
    try:
        value = _limited(limit, namespace[request["name"]], *args, **kwargs)
    except BaseException as exc:
        return {"error": _error(exc, limit)}
    try:
        after = [a if hasattr(a, "dtype") and hasattr(a, "shape") else None for a in args]
        return {"ok": wire.encode(value, save_model=wire.model_file_bytes).decode(),
                "after": wire.encode(after).decode()}
    except (wire.NotPlainData, TypeError, ValueError, RecursionError) as exc:
        return {"error": {"type": "NotPlainData", "message": _short(str(exc))}}


def main() -> int:
    channel = os.fdopen(os.dup(1), "wb")
    requests = sys.stdin.buffer
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    names: list[str] = []
    while True:
        request = read_message(requests)
        if request is None:
            return 0
        if request.get("op") == "load":
            names = list(request["names"])
            notes = _run_statements(request["statements"], namespace)
            write_message(channel, {"ready": {"names": {n: _name_status(namespace, n) for n in names},
                                              "notes": notes}})
        elif request.get("op") == "call":
            write_message(channel, _call(namespace, request))


if __name__ == "__main__":
    sys.exit(main())
