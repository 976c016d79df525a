"""labkit release: solutions/ -> notebooks/, nbgrader metadata, drift and edit protection."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import labkit
from labkit.cli import main
from labkit.grading.release import ReleaseError, strip_solution, student_copy

REPO = Path(__file__).resolve().parents[1]


def make_solution(folder: Path, name: str = "00_demo.ipynb") -> Path:
    badge = new_markdown_cell("# 00 · Demo\n\n[![Open In Colab](x)](y)\n\nText.")
    badge.metadata["tags"] = ["colab-badge"]
    setup = new_code_cell("old setup")
    setup.metadata["tags"] = ["colab-setup"]
    answer = new_code_cell("def model_size_bytes(n, b):\n    x = 1\n    ### BEGIN SOLUTION\n"
                           "    return -(-n * b // 8)\n    ### END SOLUTION")
    answer.outputs = [new_output("stream", name="stdout", text="hi\n")]
    answer.execution_count = 3
    checker = new_code_cell('from labkit import check\ncheck("00.model_size_bytes", model_size_bytes)')
    nb = new_notebook(cells=[badge, setup, answer, checker])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_strip_solution_keeps_indentation():
    src = "def f():\n    a = 1\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION\n# end"
    assert strip_solution(src) == ("def f():\n    a = 1\n    # YOUR CODE HERE\n"
                                   "    raise NotImplementedError()\n# end")


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx", "### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_errors(src):
    with pytest.raises(ReleaseError):
        strip_solution(src)


def test_student_copy_has_stubs_metadata_badge_and_no_outputs(tmp_path):
    nb = nbformat.read(make_solution(tmp_path / "solutions"), as_version=4)
    out = student_copy(nb, "00_demo.ipynb")
    badge, setup, answer, checker = out.cells
    assert f"github/{labkit.REPOSITORY}/blob/{labkit.BRANCH}/notebooks/00_demo.ipynb" in badge.source
    assert "google.colab" in setup.source and labkit.REPOSITORY in setup.source
    assert "raise NotImplementedError()" in answer.source and "-(-n" not in answer.source
    assert answer.outputs == [] and answer.execution_count is None
    assert answer.metadata.nbgrader["solution"] is True
    assert answer.metadata.nbgrader["grade_id"] == "answer-model_size_bytes"
    assert checker.metadata.nbgrader == {"grade": True, "grade_id": "check-00_model_size_bytes",
                                         "locked": True, "points": 3, "schema_version": 3,
                                         "solution": False, "task": False}
    assert out.metadata.labkit["lab"] == "00"
    assert nb.cells[2].outputs, "the solution itself is not modified"


def test_missing_colab_cells_are_reported(tmp_path):
    path = make_solution(tmp_path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    with pytest.raises(ReleaseError, match="colab-setup"):
        student_copy(nb, "00_demo.ipynb")


def test_release_check_and_edit_protection(tmp_path, capsys):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    make_solution(sol)
    args = ["release", "--solutions", str(sol), "--notebooks", str(stu)]
    assert main(args + ["--check"]) == 1
    assert main(args) == 0
    assert main(args + ["--check"]) == 0
    # a student works in their copy: --check notices, and a release refuses to clobber it
    copy = stu / "00_demo.ipynb"
    nb = nbformat.read(copy, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError()", "return 0")
    nbformat.write(nb, copy)
    edited = copy.read_text()
    assert main(args + ["--check"]) == 1
    nb_sol = nbformat.read(sol / "00_demo.ipynb", as_version=4)
    nb_sol.cells[0].source += "\nMore text."
    nbformat.write(nb_sol, sol / "00_demo.ipynb")
    assert main(args) == 2
    assert "was edited after the last release" in capsys.readouterr().err
    assert copy.read_text() == edited
    assert main(args + ["--force"]) == 0
    assert "More text." in copy.read_text()


def test_repository_notebooks_are_released():
    """notebooks/ is exactly what `labkit release` makes from solutions/."""
    assert main(["release", "--check", "--solutions", str(REPO / "solutions"),
                 "--notebooks", str(REPO / "notebooks")]) == 0


def test_release_of_chosen_notebooks_only(tmp_path, capsys):
    sol, stu = tmp_path / "solutions", tmp_path / "notebooks"
    make_solution(sol, "00_demo.ipynb")
    make_solution(sol, "01_other.ipynb")
    args = ["release", "--solutions", str(sol), "--notebooks", str(stu)]
    assert main(args + ["01"]) == 0
    assert [p.name for p in stu.iterdir()] == ["01_other.ipynb"]
    assert main(args + ["07"]) == 2
    assert "have: 00_demo.ipynb, 01_other.ipynb" in capsys.readouterr().err
