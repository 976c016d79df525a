"""Grading at scale: Dask workers (a real scheduler and workers as separate processes),
worker loss, the journal (SIGKILL and Ctrl-C, then --resume), repeatable seeds, formats.

Every server here listens on 127.0.0.1 only; every process a test starts, it ends.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit.grading.core import run_exercise
from labkit.grading.formats import render
from labkit.grading.grader import grade
from labkit.grading.journal import content_hash, grader_version, journal_path, read_entries, submission_seed
from labkit.grading.registry import get_exercise
from labkit.grading.sandbox import sandbox_problem

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
needs_sandbox = pytest.mark.skipif(sandbox_problem() is not None,
                                   reason=f"no grading sandbox here: {sandbox_problem()}")
RIGHT = "-(-n * b // 8)"
FLOOR = "n * b // 8"


def notebook(*sources: str) -> str:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["labkit"] = {"lab": "00"}
    return nbformat.writes(nb)


def slow_answer(student: str, expression: str, seconds: float) -> str:
    """A lab-00 submission whose answer depends on a statement that takes ``seconds``."""
    return notebook(f"import time\nSLOW = time.sleep({seconds})  # {student}'s work",
                    f"def model_size_bytes(n, b):\n    return SLOW or {expression}")


def make_class(folder: Path, expressions: dict[str, str], seconds: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, expression in expressions.items():
        (folder / f"{student}.ipynb").write_text(slow_answer(student, expression, seconds))
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open()))


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TQDM_DISABLE": "1"}


# --------------------------------------------------------------------------------------
# A real cluster: `dask scheduler` and `dask worker` as processes of their own
# --------------------------------------------------------------------------------------

@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers (no nanny, so a SIGKILL really loses the worker)."""
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
                              env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-nanny",
                 "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"],
                env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
@needs_sandbox
def test_real_scheduler_and_workers_survive_a_killed_worker(cluster, tmp_path):
    from distributed import Client

    expressions = {"ann": RIGHT, "ben": FLOOR, "cat": RIGHT, "dan": "0"}
    folder = make_class(tmp_path / "subs", expressions, seconds=5)
    killed: dict[str, object] = {}

    def kill_a_busy_worker() -> None:
        with Client(cluster, timeout="30s") as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                if busy:
                    time.sleep(2)  # mid-task: the judge is running the answers
                    address = sorted(busy)[0]
                    pid = client.run(os.getpid, workers=[address])[address]
                    killed.update(address=address, keys=busy[address], pid=pid)
                    os.kill(pid, signal.SIGKILL)
                    return
                time.sleep(0.1)

    watcher = threading.Thread(target=kill_a_busy_worker)
    watcher.start()
    out = tmp_path / "gb.csv"
    subs = grade([folder], output=out, lab="00", scheduler=cluster, timeout_s=120,
                 progress=False)
    watcher.join()
    assert killed, "no task was seen running"
    got = {s.student: (s.status, s.score) for s in subs}
    assert got == {"ann": ("ok", 3), "ben": ("ok", 1), "cat": ("ok", 3), "dan": ("ok", 0)}
    assert all(s.worker and s.worker != killed["address"] for s in subs), \
        "the killed worker's task was graded again on the other worker"
    assert [r["student"] for r in rows(out)] == sorted(expressions)
    entries = list(read_entries(journal_path(out)))
    assert sorted(e["student"] for e in entries) == sorted(expressions), "each row once"


# --------------------------------------------------------------------------------------
# The journal: SIGKILL and Ctrl-C mid-run, then --resume
# --------------------------------------------------------------------------------------

def _start_grader(folder: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "labkit"), "grade", str(folder), "-o", str(out),
                             "--lab", "00", "--workers", "2", "--timeout", "120", *extra],
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _wait_for_entries(journal: Path, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while len(list(read_entries(journal))) < count:
        assert proc.poll() is None, f"the grader ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, "the grader made no progress"
        time.sleep(0.1)


def _end_session(proc: subprocess.Popen) -> None:
    """End what is left of the grader's process group (its Dask workers, judges)."""
    proc.wait(timeout=120)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.mark.slow
@needs_sandbox
def test_sigkill_then_ctrl_c_then_resume_gives_every_row_once(tmp_path):
    expressions = {f"s{i:02d}": (RIGHT, FLOOR, "0")[i % 3] for i in range(8)}
    folder = make_class(tmp_path / "subs", expressions, seconds=3)
    out = tmp_path / "gb.csv"
    journal = journal_path(out)
    start = time.monotonic()

    # 1. SIGKILL the grader after two rows are in the journal
    proc = _start_grader(folder, out)
    _wait_for_entries(journal, 2, proc)
    os.kill(proc.pid, signal.SIGKILL)
    _end_session(proc)
    first = len(list(read_entries(journal)))
    assert 2 <= first < len(expressions)

    # 2. without --resume the journal is not thrown away by accident
    refused = subprocess.run([str(BIN / "labkit"), "grade", str(folder), "-o", str(out),
                              "--lab", "00"], env=env(), capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr

    # 3. --resume, interrupted by Ctrl-C after one more row: a consistent gradebook
    proc = _start_grader(folder, out, "--resume")
    _wait_for_entries(journal, first + 1, proc)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    _end_session(proc)
    assert proc.returncode == 130 and "--resume" in err, err
    done = {e["student"] for e in read_entries(journal)}
    assert {r["student"] for r in rows(out)} == done

    # 4. --resume finishes the rest
    proc = _start_grader(folder, out, "--resume")
    _, err = proc.communicate(timeout=300)
    _end_session(proc)
    assert proc.returncode == 0, err
    assert f"{len(done)} of {len(expressions)} submissions are in" in err
    seconds = time.monotonic() - start
    students = [r["student"] for r in rows(out)]
    assert students == sorted(expressions), "every row exactly once"
    entries = list(read_entries(journal))
    assert sorted(e["student"] for e in entries) == sorted(expressions), "journaled once each"
    expected = {s: {RIGHT: "3", FLOOR: "1", "0": "0"}[e] for s, e in expressions.items()}
    assert {r["student"]: r["total"] for r in rows(out)} == expected
    print(f"kill-and-resume test: {seconds:.1f} s")


# --------------------------------------------------------------------------------------
# Repeatable grades
# --------------------------------------------------------------------------------------

@needs_sandbox
def test_regrading_gives_identical_gradebooks_and_the_seed_replays(tmp_path):
    folder = make_class(tmp_path / "subs", {"amy": RIGHT, "bo": FLOOR, "cy": "n * b / 8"},
                        seconds=0)
    books = []
    for run in range(2):
        out = tmp_path / f"run{run}" / "gb.csv"
        grade([folder], output=out, lab="00", seed=7, workers=1, progress=False)
        feedback = sorted((out.parent / "gb_feedback").iterdir())
        books.append((out.read_bytes(), [p.read_bytes() for p in feedback]))
    assert books[0] == books[1]
    other = tmp_path / "other" / "gb.csv"
    grade([folder], output=other, lab="00", seed=8, workers=1, progress=False)
    seeds7 = {r["student"]: r["seed"] for r in csv.DictReader(io.StringIO(books[0][0].decode()))}
    seeds8 = {r["student"]: r["seed"] for r in rows(other)}
    assert all(seeds7[s] != seeds8[s] for s in seeds7)

    # the seed in the gradebook replays the student's test with check(..., seed=S)
    data = (folder / "cy.ipynb").read_bytes()
    seed = submission_seed(7, content_hash(data))
    assert int(seeds7["cy"]) == seed
    entry = next(e for e in read_entries(journal_path(tmp_path / "run0" / "gb.csv"))
                 if e["student"] == "cy")
    replay = run_exercise(get_exercise("00.model_size_bytes"), [lambda n, b: n * b / 8],
                          seed=seed)
    graded = entry["row"]["results"][0]
    assert (replay.score, replay.message) == (graded["score"], graded["message"])
    assert entry["labkit"] == grader_version()


# --------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------

def _subs():
    from labkit.grading.grader import Submission

    def result(score, status, message=""):
        return {"exercise_id": "00.model_size_bytes", "score": score, "max_score": 3,
                "status": status, "stage": "values" if status == "failed" else "",
                "message": message, "hint": ""}

    return [Submission(Path("a.ipynb"), "alice", "ok", "00", results=[result(3, "passed")],
                       seed=5, sha256="ab"),
            Submission(Path("b.ipynb"), "=bob", "ok", "00",
                       results=[result(1, "failed", "=1+1 expected")], seed=6, sha256="cd"),
            Submission(Path("c.ipynb"), "carol", "timeout", "00", "did not finish",
                       seed=7, sha256="ef")]


def test_long_format_has_a_row_per_exercise_and_is_spreadsheet_safe():
    table = list(csv.DictReader(io.StringIO(render(_subs(), "long"))))
    assert [(r["student"], r["score"], r["status"]) for r in table] == [
        ("alice", "3", "passed"), ("'=bob", "1", "failed"), ("carol", "0", "timeout")]
    assert table[1]["message"] == "'=1+1 expected" and table[2]["message"] == "did not finish"
    assert list(table[0]) == ["student", "file", "lab", "exercise", "score", "max_score",
                              "status", "stage", "message", "hint", "seed", "sha256"]


def test_lms_format_is_a_canvas_gradebook_import():
    table = list(csv.reader(io.StringIO(render(_subs(), "lms"))))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 00"]
    assert table[1] == ["Points Possible", "", "", "", "", "3"]
    assert table[2:] == [["'=bob", "", "", "'=bob", "", "1"], ["alice", "", "", "alice", "", "3"],
                         ["carol", "", "", "carol", "", "0"]]


def test_tasks_are_sent_a_few_at_a_time_and_a_changed_file_is_not_graded(tmp_path):
    from distributed import Client, LocalCluster

    from labkit.grading.engine import run_tasks

    tasks = {}
    for i in range(4):
        path = tmp_path / f"f{i}.ipynb"
        path.write_bytes(b"not a notebook %d" % i)
        tasks[f"k{i}"] = {"name": path.name, "path": str(path),
                          "sha256": content_hash(path.read_bytes()), "lab": "00", "seed": i,
                          "timeout_s": 60, "sandbox": False}
    (tmp_path / "f3.ipynb").write_bytes(b"changed after it was hashed")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rows = dict(run_tasks(client, tasks, in_flight=1))
    assert [rows[f"k{i}"]["status"] for i in range(4)] == ["not a notebook"] * 3 + ["error"]
    assert "changed while it was being graded" in rows["k3"]["message"] and rows["k3"]["retry"]
