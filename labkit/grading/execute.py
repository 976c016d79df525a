"""``labkit execute``: run solution notebooks top to bottom and save them with outputs.

For course maintainers: ``solutions/`` is committed executed, so it renders as the worked
answer. The file is replaced atomically and only when every cell ran without error.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from labkit._io import write_text_atomic
from labkit.grading.release import notebook_text


def execute_notebook(path: Path | str, *, timeout_s: float = 600.0) -> float:
    """Execute ``path`` in a fresh kernel in its own folder; save outputs; return seconds."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent.resolve())}}).execute()
    seconds = time.monotonic() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    write_text_atomic(path, notebook_text(nb))
    return seconds
