"""labkit's import layers (pyproject.toml [tool.importlinter]) hold, and nothing imports in a circle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_pass():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(REPO / "pyproject.toml")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


# Siblings the layers contract joins with ":" (allowed to import each other): the ONNX
# Runtime backend converts a .tflite with convert_onnx, which reads ONNX graphs with the
# backend's helpers. The one known cycle; moving those helpers down would remove it.
ALLOWED_CYCLES = {("labkit.convert_onnx", "labkit.runtime")}


def test_no_import_cycle_between_labkit_modules():
    import grimp

    graph = grimp.build_graph("labkit")
    top = sorted({".".join(m.split(".")[:2]) for m in graph.modules if m != "labkit"})
    for a in top:
        for b in top:
            if a < b and (a, b) not in ALLOWED_CYCLES and \
                    graph.chain_exists(a, b, as_packages=True) and \
                    graph.chain_exists(b, a, as_packages=True):
                raise AssertionError(f"{a} and {b} import each other (directly or not)")
