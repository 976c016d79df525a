"""The package set is declared twice (pyproject.toml for pip, environment.yml for conda)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]


def _norm(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_norm(r) for r in reqs)


def environment_requirements() -> dict[str, str]:
    lines = (REPO / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ")]
    return dict(_norm(r) for r in pip_lines if not r.startswith("-e"))


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_tflite_micro_is_pinned_exactly():
    assert pyproject_requirements()["tflite-micro"].startswith("==")


def test_import_labkit_does_not_import_tensorflow():
    code = ("import sys, labkit, labkit.data, labkit.grading, labkit.gestures, labkit.system\n"
            "bad = [m for m in ('tensorflow', 'tf_keras', 'keras') if m in sys.modules]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_tf_module_sets_legacy_keras_and_is_quiet():
    code = ("import os\nfrom labkit._tf import load\ntf, keras = load()\n"
            "assert os.environ['TF_USE_LEGACY_KERAS'] == '1'\n"
            "assert keras.__name__ == 'tf_keras', keras.__name__\n"
            "assert tf.keras.__name__.startswith('tf_keras'), tf.keras.__name__")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", f"TensorFlow import noise leaked: {done.stderr[:500]}"


def test_readme_shows_the_two_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()
