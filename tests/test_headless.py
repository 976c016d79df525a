"""Every notebook, solution and student copy, runs headless the way students and CI run it.

Plain nbclient with its default settings and none of labkit's environment variables: the
run must end without an error output (a student copy's check cells only say "not
attempted"), inside the 2-minute budget, and without a stall. A stall is nbclient waiting
for a cell's ``execute_reply`` that the kernel already sent; it happens when the client
itself sends on the shell channel while it waits there (it mimics every ipywidgets Output
widget with ``comm_msg`` updates; jupyter/nbclient#312, jupyter/jupyter_client#1059), and
lasts the whole cell timeout. So each run checks the cause — the client sent nothing but
``kernel_info_request`` and ``execute_request`` — and the symptom: no cell's wall time
exceeds the kernel's own time for it by 30 s. ``jupyter nbconvert --execute`` and papermill
run one notebook too. This is the one headless run of each notebook in the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
BUDGET_S = 120.0
STALL_S = 30.0
CLIENT_REQUESTS = {"kernel_info_request", "execute_request"}
EXTRA_RUNNERS_ON = "02_quantization.ipynb"  # widgets and progress bars: where stalls showed
LABKIT_ENV = ("LABKIT_NO_WIDGETS", "TQDM_DISABLE", "LABKIT_CACHE_ONLY")

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch):
    for name in LABKIT_ENV:
        monkeypatch.delenv(name, raising=False)


def _seconds(stamp) -> float:
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return stamp.timestamp()


def execute_with_timings(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode, float,
                                                             list[tuple[int, float]], list[str]]:
    """Run ``path`` with plain nbclient; return it, its wall time, each cell's stall and the
    types of the messages the client sent on the shell channel."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    stalls: list[tuple[int, float]] = []
    started: dict[int, float] = {}
    sent: list[str] = []
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})

    def on_start(notebook):  # the kernel client exists from here on
        send = client.kc.shell_channel.send

        def recording_send(msg):
            sent.append(msg["header"]["msg_type"])
            send(msg)

        client.kc.shell_channel.send = recording_send

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.time()

    def on_done(cell, cell_index, execute_reply):
        wall = time.time() - started[cell_index]
        timing = cell.metadata.get("execution", {})  # the kernel's own message timestamps
        kernel = (_seconds(timing["shell.execute_reply"]) - _seconds(timing["iopub.status.busy"])
                  if "shell.execute_reply" in timing and "iopub.status.busy" in timing else wall)
        stalls.append((cell_index, wall - kernel))

    client.on_notebook_start = on_start
    client.on_cell_execute = on_cell_start
    client.on_cell_executed = on_done
    start = time.monotonic()
    client.execute()
    return nb, time.monotonic() - start, stalls, sent


def error_outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [f"cell {i}: {o.get('ename')}: {str(o.get('evalue', ''))[:160]}"
            for i, cell in enumerate(nb.cells) for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_headless_clean_fast_and_without_stalls(warm_zoo, folder, name, tmp_path):
    nb, seconds, stalls, sent = execute_with_timings(REPO / folder / name, tmp_path)
    assert error_outputs(nb) == []
    extra = sorted(set(sent) - CLIENT_REQUESTS)
    assert not extra, f"the client sent {extra} on the shell channel (an Output widget?)"
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


def test_nbconvert_execute(warm_zoo, tmp_path):
    bin_dir = Path(sys.executable).parent
    seconds = _run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    str(REPO / "solutions" / EXTRA_RUNNERS_ON), "--output-dir", str(tmp_path)],
                   tmp_path)
    nb = nbformat.read(tmp_path / EXTRA_RUNNERS_ON, as_version=4)
    assert error_outputs(nb) == [] and seconds < BUDGET_S + 15


def test_papermill(warm_zoo, tmp_path):
    bin_dir = Path(sys.executable).parent
    out = tmp_path / EXTRA_RUNNERS_ON
    seconds = _run([str(bin_dir / "papermill"), "--no-progress-bar",
                    str(REPO / "notebooks" / EXTRA_RUNNERS_ON), str(out)], tmp_path)
    nb = nbformat.read(out, as_version=4)
    assert error_outputs(nb) == [] and seconds < BUDGET_S + 15


def test_the_stall_check_catches_an_output_widget(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook

    source = "import ipywidgets as widgets\nout = widgets.Output()\nwith out:\n    print(1)\nout"
    path = tmp_path / "output_widget.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(source)]), path)
    *_, sent = execute_with_timings(path, tmp_path)
    assert "comm_msg" in set(sent) - CLIENT_REQUESTS
