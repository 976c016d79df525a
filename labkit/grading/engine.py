"""Where submissions are graded: tasks on a Dask cluster, local or remote, one code path.

:func:`grading_client` gives a ``dask.distributed`` client: on a ``LocalCluster`` started
for the run (one process per worker, one thread each, on 127.0.0.1) or, with ``scheduler``
(``tcp://HOST:8786``), on an existing cluster — ``dask scheduler`` / ``dask worker`` by
hand, dask-jobqueue on SLURM, dask-kubernetes. :func:`run_tasks` submits one task per
submission and yields the rows as they come back.

A task (:func:`grade_task`) carries the submission's bytes, so workers need no shared
filesystem: the worker writes them to a private temporary folder and runs the judge there
as its own process (``python -m labkit.grading.worker``, which sandboxes the student's
code), within the time limit, and returns the judge's row as plain data. When a worker dies
mid-task the scheduler gives the task to another worker (up to Dask's
``distributed.scheduler.allowed-failures``); each task's result is taken once, so a
submission is never counted twice.

Example
-------
>>> row = grade_task({"name": "x.ipynb", "data": b"not json", "lab": "00", "seed": 1,
...                   "timeout_s": 60, "sandbox": False})
>>> row["status"], row["labkit"] == grader_version()
('not a notebook', True)
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labkit.grading.journal import grader_version

MAX_SUBMISSION_BYTES = 64 * 2**20


def default_workers() -> int:
    """The cores this process may use: the default number of local workers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------------------
# The task: runs on a Dask worker
# --------------------------------------------------------------------------------------

def _die_with_parent() -> None:
    """In the judge's process: be killed when the worker that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def run_judge(path: Path, *, lab: str | None, seed: int, timeout_s: float,
              sandbox: bool) -> dict[str, Any]:
    """Judge one notebook file in its own process; the judge's row, or a timeout/error row."""
    cmd = [sys.executable, "-m", "labkit.grading.worker", str(path), "--seed", str(seed),
           "--setup-timeout", str(timeout_s)] + (["--lab", lab] if lab else [])
    if not sandbox:
        cmd.append("--no-sandbox")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        return {"status": "timeout", "lab": lab, "results": [], "flags": [],
                "message": f"did not finish within {timeout_s:g} s",
                "wall_seconds": round(time.monotonic() - start, 1)}
    wall = round(time.monotonic() - start, 1)
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        row = json.loads(lines[-1])
        if not isinstance(row, dict) or "status" not in row:
            raise ValueError("not a row")
    except (IndexError, ValueError):
        return {"status": "error", "lab": lab, "results": [], "flags": [], "wall_seconds": wall,
                "message": f"grader worker failed (exit code {proc.returncode})"}
    return {"results": [], "flags": [], **row, "wall_seconds": wall}


def _safe_name(name: str) -> str:
    base = Path(str(name)).name or "submission.ipynb"
    return re.sub(r"[^\w.\-]", "_", base)[-120:]


def grade_task(task: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission where this runs (a Dask worker): ``task`` has ``name`` (the
    file name), ``data`` (its bytes), ``lab``, ``seed``, ``timeout_s`` and ``sandbox``.
    Returns the judge's row plus ``labkit`` (this worker's :func:`grader_version`) and
    ``worker`` (its address, when on a Dask worker)."""
    with tempfile.TemporaryDirectory(prefix="labkit-submission-") as folder:
        path = Path(folder) / _safe_name(task["name"])
        path.write_bytes(task["data"])
        row = run_judge(path, lab=task["lab"], seed=task["seed"], timeout_s=task["timeout_s"],
                        sandbox=task["sandbox"])
    row["labkit"] = grader_version()
    try:
        from distributed import get_worker

        row["worker"] = get_worker().address
    except (ImportError, ValueError):
        row["worker"] = "local"
    return row


def worker_problem(sandbox: bool) -> dict[str, Any]:
    """Run on every worker before grading: its labkit version and sandbox problem."""
    problem = None
    if sandbox:
        from labkit.grading.sandbox import sandbox_problem

        problem = sandbox_problem()
    return {"labkit": grader_version(), "sandbox": problem}


# --------------------------------------------------------------------------------------
# The client side
# --------------------------------------------------------------------------------------

@contextlib.contextmanager
def grading_client(*, scheduler: str | None, workers: int, log: Any) -> Iterator[Any]:
    """A Dask client: on ``scheduler``, or on a LocalCluster of ``workers`` processes with
    one thread each, on 127.0.0.1, closed at the end."""
    import dask
    from distributed import Client, LocalCluster

    # a task whose worker dies is retried elsewhere; one that kills 3 workers is an error
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}), \
            contextlib.ExitStack() as stack:
        if scheduler:
            client = stack.enter_context(Client(scheduler, timeout="30s"))
            log(f"grading on the Dask cluster at {scheduler} "
                f"({len(client.scheduler_info()['workers'])} workers)")
        else:
            dashboard = "127.0.0.1:0" if _has_bokeh() else None
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=dashboard, silence_logs=logging.ERROR,
                memory_limit=0, worker_dashboard_address=None))
            client = stack.enter_context(Client(cluster))
            log(f"grading on a local Dask cluster: {workers} worker process"
                f"{'es' if workers != 1 else ''}, one thread each")
        if _dashboard(client):
            log(f"Dask dashboard: {client.dashboard_link}")
        yield client


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _dashboard(client: Any) -> bool:
    """Whether the scheduler serves a real dashboard (Dask's needs bokeh; without it the
    page only says so)."""
    if "dashboard" not in client.scheduler_info().get("services", {}):
        return False
    try:  # a lambda travels by value: the scheduler needs no labkit
        return bool(client.run_on_scheduler(
            lambda: __import__("importlib.util").util.find_spec("bokeh") is not None))
    except Exception:  # an old or locked-down scheduler: say nothing
        return False


def check_workers(client: Any, *, sandbox: bool) -> None:
    """Every worker has this labkit and (unless ``sandbox`` is off) a working sandbox."""
    client.wait_for_workers(1, timeout=120)
    mine = grader_version()
    for address, info in client.run(worker_problem, sandbox).items():
        if info["labkit"] != mine:
            raise RuntimeError(f"the Dask worker {address} runs labkit {info['labkit']}, this "
                               f"grader {mine}: install the same labkit on every worker")
        if info["sandbox"]:
            raise RuntimeError(f"the grading sandbox does not work on the Dask worker "
                               f"{address}: {info['sandbox']}")


@contextlib.contextmanager
def interrupt_flag() -> Iterator[threading.Event]:
    """While active (in the main thread), Ctrl-C sets the event instead of raising at a
    random place (Dask's own callbacks swallow it there); a second Ctrl-C raises."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _payload(task: dict[str, Any]) -> dict[str, Any] | None:
    """The task with the file's bytes, read now (so only the tasks in flight are held in
    memory); None when the file changed since it was hashed."""
    from labkit.grading.journal import content_hash

    data = Path(task["path"]).read_bytes()
    if content_hash(data) != task["sha256"]:
        return None
    return {k: v for k, v in task.items() if k not in ("path", "sha256")} | {"data": data}


def run_tasks(client: Any, tasks: dict[str, dict[str, Any]], *,
              interrupted: threading.Event | None = None,
              in_flight: int | None = None) -> Iterator[tuple[str, dict]]:
    """Run every task (``key -> task``) and yield ``(key, row)`` as each finishes, once.

    A task names its file (``path``, ``sha256``); the bytes are read when it is submitted
    and travel with it. At most ``in_flight`` tasks (default: 4 per worker, at least 16)
    are on the cluster at a time, so neither this process nor the scheduler holds a
    whole class's files. A task that failed for good (say, it killed every worker it ran
    on) yields an ``error`` row saying so, marked ``retry`` (the journal does not keep it,
    so a ``--resume`` grades it again). ``interrupted`` being set raises
    ``KeyboardInterrupt``.
    """
    from distributed import as_completed

    if in_flight is None:
        in_flight = max(16, 4 * len(client.scheduler_info().get("workers", {})))
    queue = list(tasks.items())
    queue.reverse()
    futures: dict[Any, str] = {}
    finished = as_completed()

    def failed(key: str, message: str) -> dict[str, Any]:
        return {"status": "error", "lab": tasks[key]["lab"], "results": [], "flags": [],
                "message": message, "labkit": grader_version(), "retry": True}

    def submit_more() -> list[tuple[str, dict]]:
        early = []
        while queue and len(futures) < in_flight:
            key, task = queue.pop()
            try:
                payload = _payload(task)
            except OSError as exc:
                payload, why = None, f"cannot read the file ({exc})"
            else:
                why = "the file changed while it was being graded; grade it again"
            if payload is None:
                early.append((key, failed(key, why)))
                continue
            future = client.submit(grade_task, payload, key=key, pure=False, retries=1)
            futures[future] = key
            finished.add(future)
        return early

    yield from submit_more()
    while futures:
        if interrupted is not None and interrupted.is_set():
            raise KeyboardInterrupt
        if not finished.has_ready():
            time.sleep(0.1)
            continue
        for future in finished.next_batch(block=False):
            key = futures.pop(future)
            try:
                row = future.result()
            except Exception as exc:  # the task failed on every attempt
                row = failed(key, f"the grading task failed ({type(exc).__name__}: "
                                  f"{str(exc)[:200]})")  # the cluster's failure, not the file's
            future.release()
            yield key, row
        yield from submit_more()
