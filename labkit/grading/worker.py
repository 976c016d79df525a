"""Grade one submission in a fresh kernel and a fresh temporary folder.

Run by ``labkit grade`` as ``python -m labkit.grading.worker PATH --seed S ...`` (one process
per submission, so a crash or a hang never takes the grader down). Prints one JSON object
on its last line of standard output. The submission file is only ever read: the kernel
works on an in-memory copy, in an empty temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from labkit.grading.registry import lab_exercises
from labkit.grading.release import CHECK_CALL, NOTEBOOK_NAME
from labkit.widgets import NO_WIDGETS_ENV

GRADING_CELL = (
    "from labkit.grading.check import emit_grades as _labkit_emit_grades\n"
    "_labkit_emit_grades({lab!r}, globals(), seed={seed}, marker={marker!r})"
)


def notebook_lab(nb: nbformat.NotebookNode, path: Path) -> str | None:
    """Which lab a notebook belongs to: release metadata, else file name, else check cells."""
    lab = nb.metadata.get("labkit", {}).get("lab")
    if isinstance(lab, str) and re.fullmatch(r"\d\d", lab):
        return lab
    match = NOTEBOOK_NAME.match(path.name)
    if match:
        return match.group(1)
    found = {ex_id[:2] for cell in nb.cells if cell.cell_type == "code"
             for ex_id in CHECK_CALL.findall(cell.source)}
    return found.pop() if len(found) == 1 else None


def _row(status: str, lab: str | None, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"status": status, "lab": lab, "message": message, "results": [], **extra}


def read_submission(path: Path) -> nbformat.NotebookNode:
    """Parse a notebook file; ``ValueError`` says why it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the file ({exc})") from exc
    except Exception as exc:  # nbformat raises several kinds for non-notebooks
        raise ValueError(f"not a Jupyter notebook ({type(exc).__name__})") from exc
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cells)")
    return nb


def _execute(nb: nbformat.NotebookNode, folder: str, cell_timeout_s: float) -> list[str]:
    """Run every cell (errors do not stop the run); return notes on failed cells."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    # The kernel inherits this environment: no widgets and no progress-bar widgets while
    # grading (nbclient has a known rare hang with widget traffic, jupyter/nbclient#312).
    os.environ["TQDM_DISABLE"] = "1"
    os.environ[NO_WIDGETS_ENV] = "1"
    client = NotebookClient(nb, timeout=cell_timeout_s, kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True,
                            resources={"metadata": {"path": folder}})
    try:
        client.execute()
    except (CellTimeoutError, DeadKernelError) as exc:
        return [f"execution stopped: {type(exc).__name__}"]
    notes = []
    for index, cell in enumerate(nb.cells[:-1]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") != "CheckFailed":
                notes.append(f"cell {index} raised {out.get('ename')}")
    return notes


def _grades_from(cell: nbformat.NotebookNode, marker: str) -> list[dict[str, Any]] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            for line in out.get("text", "").splitlines():
                if line.startswith(marker):
                    return json.loads(line[len(marker):])
    return None


def grade_file(path: Path, lab: str | None, seed: int, cell_timeout_s: float) -> dict[str, Any]:
    """Execute one submission and grade the names it defined; returns a status row."""
    start = time.monotonic()
    try:
        nb = read_submission(path)
    except ValueError as exc:
        return _row("not a notebook", lab, str(exc))
    found = notebook_lab(nb, path)
    if found is None or (lab is not None and found != lab):
        expected = f"lab {lab}" if lab else "a course notebook"
        return _row("wrong notebook", found, f"expected {expected}, got "
                    f"{'lab ' + found if found else 'a notebook with no lab'}")
    if not lab_exercises(found):
        return _row("wrong notebook", found, f"lab {found} has no graded exercises")
    marker = f"@@labkit-grades-{secrets.token_hex(8)}@@"
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.append(nbformat.v4.new_code_cell(
        GRADING_CELL.format(lab=found, seed=seed, marker=marker)))
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as folder:
        notes = _execute(nb, folder, cell_timeout_s)
    grades = _grades_from(nb.cells[-1], marker)
    seconds = round(time.monotonic() - start, 1)
    if grades is None:
        return _row("error", found, "; ".join(notes) or "the grading cell did not run",
                    seconds=seconds)
    return _row("ok", found, "; ".join(notes), results=grades, seconds=seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.grading.worker")
    parser.add_argument("path", type=Path)
    parser.add_argument("--lab")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--cell-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    row = grade_file(args.path, args.lab, args.seed, args.cell_timeout)
    sys.stdout.write("\n" + json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
