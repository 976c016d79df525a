"""The Colab path, proven without Colab: a fresh environment like Colab's runs the notebooks.

A new virtual environment gets Colab's TensorFlow and tf-keras (2.20) and a Jupyter kernel;
a stub ``google.colab`` module is imported at start-up (as on Colab). Then notebooks 00 and
02 run top to bottom in one kernel each, starting with their own setup cell, which installs
labkit from this checkout (``LABKIT_INSTALL_SOURCE``; on Colab the default is GitHub):
everything must run, with no restart, and TensorFlow must still be Colab's 2.20.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.grading.release import INSTALL_SOURCE_ENV

REPO = Path(__file__).resolve().parents[1]
COLAB_TF = "2.20"
NOTEBOOKS = ("00_welcome_and_setup.ipynb", "02_quantization.ipynb")

pytestmark = pytest.mark.slow

RUNNER = r'''
import sys, nbformat
from importlib.metadata import version
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    errors = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb.cells)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    print(path, "ERRORS" if errors else "OK", errors)
print("TENSORFLOW", version("tensorflow"))
'''


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, **kwargs)
    assert done.returncode == 0, f"{cmd[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    root = tmp_path_factory.mktemp("colab")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run(pip + [f"tensorflow=={COLAB_TF}.*", f"tf-keras=={COLAB_TF}.*", "ipykernel", "nbclient",
                "nbformat"])
    stub = root / "stub"
    (stub / "google" / "colab").mkdir(parents=True)
    (stub / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab."""\n')
    (stub / "sitecustomize.py").write_text("import google.colab  # as Colab's kernels do\n")
    source = root / "src"  # the checkout as pip would get it: the project files only
    for name in ("labkit", "datasets"):
        shutil.copytree(REPO / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    work = root / "work"
    work.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(REPO / "notebooks" / name, work / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LABKIT_", "VIRTUAL_ENV", "PYTHON"))}
    env.update({"PYTHONPATH": str(stub), INSTALL_SOURCE_ENV: f"file://{source}",
                "LABKIT_CACHE": str(root / "cache"), "PATH": f"{venv / 'bin'}:{env['PATH']}"})
    done = _run([str(venv / "bin" / "python"), "-c", RUNNER, *NOTEBOOKS], cwd=work, env=env)
    return done.stdout


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_in_a_colab_like_kernel(colab, name):
    line = next(line for line in colab.splitlines() if line.startswith(name))
    assert line.split()[1] == "OK", line


def test_colabs_tensorflow_is_kept(colab):
    line = next(line for line in colab.splitlines() if line.startswith("TENSORFLOW"))
    assert line.split()[1].startswith(COLAB_TF + "."), line
