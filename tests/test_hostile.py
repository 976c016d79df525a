"""Hostile submissions, graded in one run next to an honest one (the threat model in README).

Each attack is written so that it would *earn* points if it worked (it returns the right
answer only when it got past a defence), so "scores 0" proves the defence held. After the
run, every file outside the submissions' own temporary folders is unchanged: the
instructor's files, the other submissions and the installed labkit.
"""

from __future__ import annotations

import csv
import hashlib
import socket
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import labkit
from labkit.grading.grader import grade
from labkit.grading.sandbox import sandbox_problem

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sandbox_problem() is not None,
                                 reason=f"no grading sandbox here: {sandbox_problem()}")]

REPO = Path(__file__).resolve().parents[1]
RIGHT = "-(-n * b // 8)"  # the correct expression, used only when an attack succeeded
MARKER = "labkit-hostile-leftover"


def notebook(*sources: str, lab: str = "00") -> str:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["labkit"] = {"lab": lab}
    return nbformat.writes(nb)


def answer(body: str, prelude: str = "") -> str:
    """A notebook whose model_size_bytes runs ``body`` (indented) with n, b in scope."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return notebook(prelude + "\ndef model_size_bytes(n, b):\n" + lines)


def attacks(secret: Path, notes: Path, other: Path, port: int) -> dict[str, str]:
    installed = Path(labkit.__file__).resolve().parent
    return {
        # 1. tampering with the grader, numpy, builtins and the output it reads
        "patch_grader": answer("""
import labkit.grading.core as core, labkit.grading.check as chk, labkit.grading.compare as cmp
from labkit.grading.core import Result
core.run_exercise = lambda ex, objs, **k: Result(ex.id, ex.points, ex.points, "passed")
chk.check = lambda *a, **k: print("✓ 00.model_size_bytes — 3/3 points")
cmp.expect_equal = lambda *a, **k: None
return 0"""),
        "patch_numpy_builtins": answer("""
import builtins, numpy
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
builtins.isinstance = lambda *a: True
return 0"""),
        "fake_output": answer("""
import json, os, struct, sys
fake = {"status": "ok", "lab": "00", "results": [{"exercise_id": "00.model_size_bytes",
        "score": 3, "max_score": 3, "status": "passed"}]}
print(json.dumps(fake)); print("✓ 00.model_size_bytes — 3/3 points")
frame = json.dumps({"ok": "3", "after": "[]"}).encode()
for fd in range(1, 30):
    try:
        os.write(fd, struct.pack(">Q", len(frame)) + frame)
    except OSError:
        pass
return 0"""),
        "patch_reply": answer("""
import labkit.grading.inside as inside
inside._call = lambda ns, req: {"ok": "3", "after": "[]"}
return 0"""),
        # 2. answers that are not values
        "lying_object": answer("""
class Always:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __int__(self): return 3
    __index__ = __int__
return Always()"""),
        "lying_int": answer("""
class Liar(int):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
return Liar(0)"""),
        "lying_array": answer("""
import numpy as np
class Arr(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    def __array__(self, *a, **k): return np.asarray(self.view(np.ndarray))
return np.zeros(()).view(Arr)"""),
        "generator": answer("return (x for x in [3])"),
        "recursive": answer("a = []\na.append(a)\nreturn a"),
        "huge": answer('return b"x" * 300_000_000'),
        # 3. using labkit's answer instead of writing one
        "unwrap": answer("""
import inspect, labkit.models as m
fn = inspect.unwrap(m.model_size_bytes)
fn = getattr(fn, "__wrapped__", fn)
return fn(n, b)"""),
        "thread": answer("""
import threading, labkit.models as m
box = []
t = threading.Thread(target=lambda: box.append(m.model_size_bytes(n, b)))
t.start(); t.join()
return box[0] if box else 0"""),
        "exec_source": answer("""
import labkit.models as m
ns = {"__name__": "copy"}
exec(open(m.__file__).read(), ns)
return ns["model_size_bytes"](n, b)"""),
        "reload": answer("""
import importlib, sys, labkit.models
for name in [k for k in sys.modules if k.startswith("labkit")]:
    del sys.modules[name]
import labkit.models as fresh
return importlib.reload(fresh).model_size_bytes(n, b)"""),
        "read_solutions": answer(f"""
import glob, json
found = [p for root in ({str(REPO)!r}, "/work", "/root", "/home")
         for p in glob.glob(root + "/**/*00_welcome*.ipynb", recursive=True)]
for path in found:
    nb = json.load(open(path))
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if "def model_size_bytes" in src and "BEGIN SOLUTION" in src:
            ns = {{}}
            exec(src, ns)
            return ns["model_size_bytes"](n, b)
return 0"""),
        "search_disk": answer("""
import os
for root in ("/work", "/root", "/home", "/tmp", "/usr/local"):
    for folder, _, files in os.walk(root):
        for name in files:
            if name == "models.py":
                text = open(os.path.join(folder, name), errors="ignore").read()
                if "def model_size_bytes" in text and "// 8" in text:
                    ns = {"__name__": "found"}
                    exec(text, ns)
                    return ns["model_size_bytes"](n, b)
return 0"""),
        # 4. harming the machine
        "write_instructor": answer(f"""
for path in ({str(notes)!r}, {str(installed / "models.py")!r}, {str(other)!r}):
    try:
        with open(path, "w") as f:
            f.write("pwned")
    except OSError:
        pass
return 0"""),
        "read_secret": answer(f"""
try:
    open({str(secret)!r}).read()
    open({str(other)!r}).read()
    return {RIGHT}
except OSError:
    return 0"""),
        "network": answer(f"""
import socket
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", {port}))
    return {RIGHT}
except OSError:
    return 0"""),
        "leftover": answer(f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {MARKER!r}],
                 start_new_session=True)
return 0"""),
        "memory": answer("x = bytearray(30 * 2**30)\nreturn " + RIGHT),
        "disk": answer("""
with open("/tmp/fill", "wb") as f:
    for _ in range(2048):
        f.write(b"x" * 2**20)
return 0"""),
        "fork_bomb": answer("""
import os
children = 0
while children < 100000:
    try:
        if os.fork() == 0:
            import time; time.sleep(30); os._exit(0)
        children += 1
    except OSError:
        break
return 0"""),
        "kill_parent": answer("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                              "os.kill(1, signal.SIGKILL)\nreturn 0"),
        # 5. the gradebook
        "=HYPERLINK(1)": answer("return 0"),
        "inject_feedback": answer('raise ValueError("<script>alert(1)</script> [x](javascript:y)")'),
        "other_lab_metadata": notebook("def model_size_bytes(n, b):\n    return 0", lab="02"),
        # 6. crashes
        "exits": notebook("import os\nPID = os._exit(3)", "def model_size_bytes(n, b):\n"
                          "    return PID"),
        "hangs": notebook("x = 0\nwhile True:\n    x += 1", "def model_size_bytes(n, b):\n"
                          "    return x"),
        "floods": answer("print('x' * 10**6)\nfor _ in range(10**9):\n    print('y' * 10**4)\n"
                         "return 0"),
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    instructor = tmp_path_factory.mktemp("instructor")
    secret, notes = instructor / "secret.txt", instructor / "notes.txt"
    secret.write_text("answers")
    notes.write_text("grades")
    folder = tmp_path_factory.mktemp("submissions")
    other = folder / "right.ipynb"
    other.write_text(answer("return " + RIGHT))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    for name, text in attacks(secret, notes, other, server.getsockname()[1]).items():
        (folder / f"{name}.ipynb").write_text(text)
    installed = Path(labkit.__file__).resolve().parent
    watched = [instructor, folder, installed, REPO / "solutions"]
    before = {w: _digest(w) for w in watched}
    out = tmp_path_factory.mktemp("out") / "gradebook.csv"
    subs = grade([folder], output=out, lab="00", workers=2, timeout_s=30, progress=False)
    stop.set()
    server.close()
    after = {w: _digest(w) for w in watched}
    return {s.student: s for s in subs}, before, after, connections, out


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_the_honest_submission_scores_full_marks(run):
    subs = run[0]
    assert subs["right"].score == 3 and subs["right"].status == "ok"


@pytest.mark.parametrize("name", [n for n in attacks(Path("s"), Path("n"), Path("o"), 1)])
def test_every_attack_scores_zero(run, name):
    sub = run[0][name]
    assert sub.score == 0, (sub.status, sub.message, sub.results)


def test_no_file_outside_the_sandbox_changed(run):
    _, before, after, _, _ = run
    for folder in before:
        assert after[folder] == before[folder], f"{folder} changed"


def test_no_network_connection_reached_the_host(run):
    assert run[3] == []


def test_no_process_outlives_its_submission(run):
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"])
            if MARKER in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_crashes_are_status_rows_with_clear_messages(run):
    subs = run[0]
    assert subs["exits"].status == "error" and "exited with code 3" in subs["exits"].message
    assert subs["hangs"].status == "timeout"
    assert subs["floods"].status == "ok"
    assert subs["other_lab_metadata"].status == "ok" and subs["other_lab_metadata"].lab == "00"


def test_failures_say_why(run):
    by = {name: sub.results[0] for name, sub in run[0].items() if sub.results}
    assert by["lying_object"]["stage"] == "type" and "Always" in by["lying_object"]["message"]
    assert by["generator"]["stage"] == "type"
    assert by["unwrap"]["stage"] == "reference"


def test_gradebook_cells_cannot_run_as_formulas_and_feedback_is_escaped(run):
    out = run[4]
    rows = {r["file"]: r for r in csv.DictReader(out.open())}
    formula = next(r for f, r in rows.items() if "HYPERLINK" in f)
    assert formula["student"].startswith("'=")
    assert all(not v.startswith(("=", "+", "@")) for r in rows.values() for v in r.values())
    feedback = (out.parent / "gradebook_feedback" / "inject_feedback_00.md").read_text()
    assert "<script>" not in feedback and "&lt;script&gt;" in feedback
    assert "](javascript" not in feedback


def test_labkit_functions_that_compute_an_answer_are_blocked_too(tmp_path):
    """02.quantize / 02.dequantize through the runtime's own int8 I/O conversion."""
    routes = {
        "via_runtime": notebook(
            "import numpy as np\nfrom labkit import runtime\n"
            "def quantize(x, scale, zero_point, bits=8):\n"
            "    return runtime._to_input(x, {'dtype': np.int8, 'quantization': (scale, zero_point)})\n"
            "def dequantize(q, scale, zero_point):\n"
            "    return runtime._from_output(np.asarray(q), {'dtype': np.int8,\n"
            "                                'quantization': (scale, zero_point)}).astype(float)",
            lab="02"),
    }
    for name, text in routes.items():
        (tmp_path / f"{name}.ipynb").write_text(text)
    subs = grade([tmp_path], output=tmp_path / "g.csv", lab="02", progress=False)
    results = {r["exercise_id"]: r for r in subs[0].results}
    for exercise in ("02.quantize", "02.dequantize"):
        assert results[exercise]["score"] == 0 and results[exercise]["stage"] == "reference"
