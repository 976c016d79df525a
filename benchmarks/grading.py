"""Grading benchmarks: the sandbox's cost, and grading a class on Dask.

Run: ``python benchmarks/grading.py sandbox`` or ``python benchmarks/grading.py scale``
(``all`` runs both). Each rewrites its own section of benchmarks/results/grading.md.

``sandbox``: a class of 20 submissions of notebook 00 (half the worked solution, half the
untouched student copy) and 4 of notebook 02 (whose answers import TensorFlow and convert
a Keras model inside the sandbox) are graded with the bubblewrap sandbox and with
``--no-sandbox``, alternating, ``--rounds`` times each. The per-submission overhead is the
difference of the median per-submission times.

``scale``: ``--submissions`` (default 100) submissions of lab ``--lab`` generated from the
released notebooks — half solved, a quarter wrong (the first answer returns 0), a quarter
unsolved, each file unique — graded on a LocalCluster of 1 and of 2 workers and on a
``dask scheduler`` + 2 ``dask worker`` processes started here (127.0.0.1 only). Reported:
wall time, throughput, scaling efficiency from 1 to 2 workers (T1 / 2·T2), and the
per-submission overhead over the judge's own run (the task's wall time minus the time the
judge spends reading the notebook, running the sandbox and the tests), plus the time of a
``--resume`` that finds every row in the journal. The machine's load average is recorded
before and after each run: on a shared machine the numbers are only as good as it was idle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from labkit.grading.grader import grade
from labkit.grading.release import BEGIN, END
from labkit.system import machine_info

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "grading.md"
CLASSES = {"00_welcome_and_setup.ipynb": 20, "02_quantization.ipynb": 4}
BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------------------
# The sandbox's cost
# --------------------------------------------------------------------------------------

def make_class(folder: Path, name: str, students: int) -> Path:
    """``students`` submissions of ``name``: even ones solved, odd ones untouched; each
    file unique (a markdown cell names the student), so none is graded as a copy."""
    class_dir = folder / name[:2]
    for i in range(students):
        source = REPO / ("solutions" if i % 2 == 0 else "notebooks") / name
        (class_dir / f"student{i:02d}").mkdir(parents=True)
        write_unique(nbformat.read(source, as_version=4), f"student{i:02d}",
                     class_dir / f"student{i:02d}" / name)
    return class_dir


def write_unique(nb: nbformat.NotebookNode, student: str, path: Path) -> None:
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Handed in by {student}."))
    nbformat.write(nb, path)


def timed_run(class_dir: Path, out: Path, *, sandbox: bool, workers: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the --no-sandbox warning, once per run
        start = time.perf_counter()
        subs = grade([class_dir], output=out, workers=workers, sandbox=sandbox, progress=False,
                     overwrite=True)
        wall = time.perf_counter() - start
    right = sum(s.score == s.max_score > 0 for s in subs[::2])
    zero = sum(s.score == 0 and s.status == "ok" for s in subs[1::2])
    if right + zero != len(subs):
        raise SystemExit(f"grading went wrong: {[(s.student, s.score, s.status) for s in subs]}")
    return {"wall": wall, "per_sub": statistics.median(s.seconds for s in subs)}


def sandbox_section(workers: int, rounds: int) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, students in CLASSES.items():
            class_dir = make_class(Path(tmp), name, students)
            runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
            for _ in range(rounds):
                for sandbox in (True, False):
                    runs[sandbox].append(timed_run(class_dir, Path(tmp) / "gb.csv",
                                                   sandbox=sandbox, workers=workers))
            med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "per_sub")}
                   for k, v in runs.items()}
            overhead = med[True]["per_sub"] - med[False]["per_sub"]
            rows.append(f"| {name} | {students} | {med[True]['wall']:.1f} | "
                        f"{med[False]['wall']:.1f} | {med[True]['per_sub']:.2f} | "
                        f"{med[False]['per_sub']:.2f} | {overhead:+.2f} |")
    return "\n".join([
        "## The sandbox's cost", "",
        f"`labkit grade --workers {workers}` with the bubblewrap sandbox and with "
        f"`--no-sandbox`, alternating, {rounds} rounds each (medians). Half of each class "
        "hands in the worked solution (100 %), half the untouched student copy (0 %); every "
        "run is checked to grade them so. The judge runs only each notebook's answers and "
        "what they depend on, never the whole notebook.", "",
        "- per submission: the task's wall time (judge process, sandbox, the lab's tests); "
        "overhead = sandbox − no sandbox", "",
        "| notebook | submissions | wall, sandbox (s) | wall, no sandbox (s) | per submission, "
        "sandbox (s) | per submission, no sandbox (s) | sandbox overhead (s) |",
        "|---|---:|---:|---:|---:|---:|---:|", *rows, ""])


# --------------------------------------------------------------------------------------
# Grading a class on Dask
# --------------------------------------------------------------------------------------

def _wrong(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The first answer's solution block replaced by ``return 0``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            lines, out, inside = cell.source.splitlines(), [], False
            for line in lines:
                if line.strip() == BEGIN:
                    inside = True
                    out.append(line[: len(line) - len(line.lstrip())] + "return 0")
                elif line.strip() == END:
                    inside = False
                elif not inside:
                    out.append(line)
            cell.source = "\n".join(out)
            break
    return nb


def make_scale_class(folder: Path, name: str, students: int) -> dict[str, str]:
    """Half solved, a quarter wrong, a quarter unsolved; returns ``student -> kind``."""
    kinds = {}
    for i in range(students):
        kind = ("solved", "wrong", "solved", "unsolved")[i % 4]
        source = REPO / ("notebooks" if kind == "unsolved" else "solutions") / name
        nb = nbformat.read(source, as_version=4)
        student = f"student{i:03d}"
        (folder / student).mkdir(parents=True)
        write_unique(_wrong(nb) if kind == "wrong" else nb, student, folder / student / name)
        kinds[student] = kind
    return kinds


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def scheduler_and_workers(tmp: Path, workers: int):
    """``dask scheduler`` and ``workers`` × ``dask worker`` as processes, on 127.0.0.1."""
    info = tmp / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                               "0", "--no-dashboard", "--scheduler-file", str(info)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        while not info.exists() or not info.read_text().strip():
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(workers):
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--memory-limit", "0"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _scale_run(class_dir: Path, out: Path, kinds: dict[str, str], label: str,
               **where: object) -> dict[str, object]:
    load_before = _load()
    start = time.perf_counter()
    subs = grade([class_dir], output=out, overwrite=True, progress=False, **where)
    wall = time.perf_counter() - start
    wrongly = [s.student for s in subs if s.status != "ok" or (
        (s.score == s.max_score) != (kinds[s.student] == "solved")
        or (kinds[s.student] == "unsolved" and s.score != 0))]
    if wrongly:
        raise SystemExit(f"{label}: graded wrongly: {wrongly}")
    journal = [json.loads(line) for line in out.with_name(out.stem + ".journal.jsonl")
               .read_text().splitlines() if line.strip()]
    judge = statistics.median(e["row"].get("seconds", 0.0) for e in journal)
    task = statistics.median(e["row"].get("wall_seconds", 0.0) for e in journal)
    return {"label": label, "wall": wall, "n": len(subs), "judge": judge, "task": task,
            "load": f"{load_before} → {_load()}"}


def scale_section(lab_name: str, students: int) -> str:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        class_dir = tmp / "class"
        kinds = make_scale_class(class_dir, lab_name, students)
        for n in (1, 2):
            results.append(_scale_run(class_dir, tmp / f"local{n}.csv", kinds,
                                      f"LocalCluster, {n} worker{'s' if n > 1 else ''}",
                                      workers=n))
            print(results[-1], flush=True)
        with scheduler_and_workers(tmp, 2) as address:
            results.append(_scale_run(class_dir, tmp / "cluster.csv", kinds,
                                      "`dask scheduler` + 2 `dask worker` processes",
                                      scheduler=address))
            print(results[-1], flush=True)
        start = time.perf_counter()
        grade([class_dir], output=tmp / "local2.csv", workers=2, resume=True, progress=False)
        resume_s = time.perf_counter() - start
    t1, t2 = results[0]["wall"], results[1]["wall"]
    rows = []
    for r, workers in zip(results, (1, 2, 2)):
        per_sub = r["wall"] * workers / r["n"]
        rows.append(f"| {r['label']} | {r['n']} | {r['wall']:.1f} | "
                    f"{60 * r['n'] / r['wall']:.1f} | {per_sub:.1f} | {r['judge']:.1f} | "
                    f"{r['task'] - r['judge']:.1f} | {per_sub - r['judge']:.1f} | {r['load']} |")
    info = machine_info()
    return "\n".join([
        "## Grading a class on Dask", "",
        f"{students} submissions of `{lab_name}` made from the released notebooks (half solved, "
        "a quarter wrong — the first answer returns 0 —, a quarter unsolved; each file unique), "
        "graded with the sandbox on a LocalCluster of 1 and 2 workers, and on a "
        "`dask scheduler` + 2 `dask worker` processes on 127.0.0.1. Every run is checked to "
        f"grade each kind as it should. Machine: {info['cpu']}, {info['cores']} cores, "
        f"Python {platform.python_version()}.", "",
        "- judge: median time the judge spends on one submission (reading it, sandbox, tests);",
        "- task overhead: median task wall time minus the judge's (the judge process's start "
        "and imports, the temporary file);",
        "- end-to-end per submission: wall × workers / submissions (cluster start, scheduling "
        "and writing the gradebook included); its overhead is that minus the judge's time;",
        "- load: the 1/5/15-minute load averages before → after the run (2 cores: above 2, "
        "other work was competing for them).", "",
        "| where | submissions | wall (s) | throughput (per min) | end-to-end per submission "
        "(s) | judge (s) | task overhead (s) | end-to-end overhead (s) | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|", *rows, "",
        f"- scaling efficiency from 1 to 2 local workers: T1 / (2 · T2) = {t1 / (2 * t2):.2f} "
        "(goal ≥ 0.9)",
        f"- `--resume` when every row is already in the journal: {resume_s:.1f} s "
        "(no cluster is started)", ""])


def _write(section: str) -> None:
    """Replace the section with the same ``## `` heading in grading.md (or append it)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Grading benchmarks\n"
    if not text.startswith("# Grading benchmarks"):
        text = "# Grading benchmarks\n"
    heading = section.splitlines()[0]
    parts = re.split(r"(?m)^(?=## )", text)
    parts = [p for p in parts if not p.startswith(heading)]
    RESULTS.write_text("".join(p if p.endswith("\n\n") else p.rstrip("\n") + "\n\n"
                               for p in parts) + section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("sandbox", "scale", "all"), nargs="?", default="all")
    parser.add_argument("--workers", type=int, default=2, help="sandbox: workers")
    parser.add_argument("--rounds", type=int, default=2, help="sandbox: rounds")
    parser.add_argument("--lab", default="02_quantization.ipynb", help="scale: the notebook")
    parser.add_argument("--submissions", type=int, default=100, help="scale: class size")
    args = parser.parse_args()
    if shutil.which("bwrap") is None:
        raise SystemExit("the benchmark grades with the sandbox: install bubblewrap")
    if args.what in ("sandbox", "all"):
        _write(sandbox_section(args.workers, args.rounds))
    if args.what in ("scale", "all"):
        _write(scale_section(args.lab, args.submissions))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
