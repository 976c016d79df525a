"""Every notebook, solution and student copy, runs headless the way students and CI run it.

Plain nbclient with its default settings and none of labkit's environment variables: the
run must end without an error output (a student copy's check cells only say "not
attempted"), inside the 2-minute budget, and without a stall — a cell whose wall time
exceeds the kernel's own time for it by more than 30 s (the client waiting on an idle
kernel, as jupyter/nbclient#312 describes). ``jupyter nbconvert --execute`` and papermill
run one notebook too. This is the one headless run of each notebook in the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
BUDGET_S = 120.0
STALL_S = 30.0
EXTRA_RUNNERS_ON = "02_quantization.ipynb"  # widgets and progress bars: where stalls showed
LABKIT_ENV = ("LABKIT_NO_WIDGETS", "TQDM_DISABLE", "LABKIT_CACHE_ONLY")

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in LABKIT_ENV:
        monkeypatch.delenv(name, raising=False)


def execute_with_timings(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode, float,
                                                             list[tuple[int, float]]]:
    """Run ``path`` with plain nbclient; return it, its wall time and each cell's stall."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    stalls: list[tuple[int, float]] = []
    started: dict[int, float] = {}

    def on_start(cell, cell_index):
        started[cell_index] = time.monotonic()

    def on_done(cell, cell_index, execute_reply):
        wall = time.monotonic() - started[cell_index]
        meta, header = execute_reply.get("metadata", {}), execute_reply.get("header", {})
        kernel = ((header["date"] - meta["started"]).total_seconds()
                  if "started" in meta and "date" in header and not isinstance(meta["started"], str)
                  else wall)
        stalls.append((cell_index, wall - kernel))

    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}},
                            on_cell_start=on_start, on_cell_executed=on_done)
    start = time.monotonic()
    client.execute()
    return nb, time.monotonic() - start, stalls


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [f"cell {i}: {o.get('ename')}: {str(o.get('evalue', ''))[:160]}"
            for i, cell in enumerate(nb.cells) for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_headless_clean_fast_and_without_stalls(folder, name, tmp_path):
    nb, seconds, stalls = execute_with_timings(REPO / folder / name, tmp_path)
    assert error_outputs(nb) == []
    worst = max(stalls, key=lambda s: s[1], default=(None, 0.0))
    assert worst[1] < STALL_S, f"cell {worst[0]} waited {worst[1]:.0f} s on an idle kernel"
    assert seconds < BUDGET_S, f"{folder}/{name} took {seconds:.0f} s (budget {BUDGET_S:.0f} s)"
    print(f"{folder}/{name}: {seconds:.1f} s, worst stall {worst[1]:.1f} s")


def _run(cmd: list[str], cwd: Path) -> float:
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={k: v for k, v in os.environ.items() if k not in LABKIT_ENV})
    assert done.returncode == 0, done.stderr[-2000:]
    return time.monotonic() - start


def test_nbconvert_execute(tmp_path):
    bin_dir = Path(sys.executable).parent
    seconds = _run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    str(REPO / "solutions" / EXTRA_RUNNERS_ON), "--output-dir", str(tmp_path)],
                   tmp_path)
    nb = nbformat.read(tmp_path / EXTRA_RUNNERS_ON, as_version=4)
    assert error_outputs(nb) == [] and seconds < BUDGET_S + 15


def test_papermill(tmp_path):
    bin_dir = Path(sys.executable).parent
    out = tmp_path / EXTRA_RUNNERS_ON
    seconds = _run([str(bin_dir / "papermill"), "--no-progress-bar",
                    str(REPO / "notebooks" / EXTRA_RUNNERS_ON), str(out)], tmp_path)
    nb = nbformat.read(out, as_version=4)
    assert error_outputs(nb) == [] and seconds < BUDGET_S + 15
