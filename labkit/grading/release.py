"""``labkit release``: build the student notebooks in ``notebooks/`` from ``solutions/``.

For each ``solutions/NN_topic.ipynb`` the student copy ``notebooks/NN_topic.ipynb``

- has every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block replaced by
  ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the block's indentation;
- has all outputs and execution counts cleared;
- carries nbgrader cell metadata (:func:`nbgrader_metadata`): answer cells
  ``solution: true``, check cells ``grade: true, locked: true`` with the exercise's points,
  grade ids that nbgrader accepts (letters, digits, ``_`` and ``-``: ``check-02_quantize``), so
  nbgrader takes it as it is;
- has its Colab badge (the markdown cell tagged ``colab-badge``) and Colab install cell
  (tagged ``colab-setup``) rendered from :data:`labkit.about.REPOSITORY`, pointing at its own path.

The release writes the same nbgrader metadata into ``solutions/`` (with the Colab cells),
so ``solutions/`` is also a valid nbgrader *source* notebook: ``nbgrader generate_assignment``
makes the same stubs from it. A released notebook records a hash of its cells; a later
release refuses to overwrite a copy whose cells were edited since (a student's work),
unless ``force=True``.

Example
-------
>>> import nbformat
>>> cell = nbformat.v4.new_code_cell("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n"
...                                  "    ### END SOLUTION")
>>> print(strip_solution(cell.source))
def f(x):
    # YOUR CODE HERE
    raise NotImplementedError()
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labkit import about
from labkit._io import write_text_atomic
from labkit.grading.names import CHECK_CALL, NOTEBOOK_NAME
from labkit.grading.registry import get_exercise

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BADGE_TAG, SETUP_TAG = "colab-badge", "colab-setup"


class ReleaseError(Exception):
    """A solution notebook is malformed, or the release would overwrite a student's edits."""


def colab_url(folder: str, name: str) -> str:
    """Colab's URL for ``folder/name`` in the course repository (:data:`labkit.about.REPOSITORY`)."""
    return (f"https://colab.research.google.com/github/{about.REPOSITORY}/blob/"
            f"{about.BRANCH}/{folder}/{name}")


def badge_source(folder: str, name: str) -> str:
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(folder, name)})")


INSTALL_SOURCE_ENV = "LABKIT_INSTALL_SOURCE"  # where the Colab setup cell installs labkit from


def default_install_source() -> str:
    """The course repository on GitHub, as pip installs it."""
    return f"git+https://github.com/{about.REPOSITORY}@{about.BRANCH}"


def setup_source() -> str:
    """The first code cell: installs labkit on Colab only; does nothing elsewhere.

    It keeps Colab's own TensorFlow (pinning the installed version), so tf-keras resolves to
    the matching release and the runtime needs no restart. ``LABKIT_INSTALL_SOURCE``
    replaces the GitHub source (the Colab-like test installs the local checkout with it).
    """
    return (
        "# Setup: on Colab this installs labkit (about 1 minute); elsewhere it does nothing.\n"
        "import os, subprocess, sys\n"
        "if \"google.colab\" in sys.modules:\n"
        "    from importlib.metadata import version\n"
        "    keep_tf = f\"tensorflow=={version('tensorflow')}\"  # Colab's own: no restart needed\n"
        f"    source = os.environ.get(\"{INSTALL_SOURCE_ENV}\", \"{default_install_source()}\")\n"
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", keep_tf,\n"
        "                    f\"labkit @ {source}\"], check=True)"
    )


def strip_solution(source: str) -> str:
    """Replace each solution block in a code cell's source by a stub."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ReleaseError(f"line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        elif marker == END:
            if not inside:
                raise ReleaseError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{BEGIN} is never closed by {END}")
    return "\n".join(out)


def cells_hash(nb: nbformat.NotebookNode) -> str:
    """A hash of the cells' types and sources: changes when anyone edits a cell."""
    h = hashlib.sha256()
    for cell in nb.cells:
        h.update(cell.cell_type.encode() + b"\0" + cell.source.encode() + b"\0")
    return h.hexdigest()[:16]


GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]*$")  # nbgrader's schema for grade_id
_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


def _nbgrader(cell: nbformat.NotebookNode, grade_id: str, **flags: object) -> None:
    if not GRADE_ID.match(grade_id):
        raise ReleaseError(f"grade id {grade_id!r} is not valid for nbgrader")
    meta = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
            "solution": False, "task": False}
    meta.update(flags)
    cell.metadata["nbgrader"] = meta


def nbgrader_metadata(nb: nbformat.NotebookNode) -> None:
    """Give ``nb``'s cells nbgrader metadata, in place (any earlier one is replaced).

    A code cell with a solution block is an answer cell (``answer-<function name>``); a
    cell with check calls is a locked grade cell (``check-02_quantize``) worth the points
    of its exercises. nbgrader reads a check cell's score from what it shows: an error is
    0 points, a number is partial credit, anything else full marks (see
    :func:`labkit.grading.check.check`).
    """
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type != "code":
            continue
        found = CHECK_CALL.findall(cell.source)
        if BEGIN in cell.source:
            if found:
                raise ReleaseError(f"cell {index}: a solution cell cannot also be a check cell")
            names = _DEF.findall(cell.source)
            grade_id = f"answer-{names[0]}" if names else f"answer-{index:02d}"
            if grade_id in used:
                grade_id = f"{grade_id}-{index:02d}"
            used.add(grade_id)
            _nbgrader(cell, grade_id, solution=True)
        elif found:
            points = sum(get_exercise(ex_id).points for ex_id in found)
            grade_id = "check-" + "-".join(ex_id.replace(".", "_") for ex_id in found)
            _nbgrader(cell, grade_id, grade=True, locked=True, points=points)


def _header_cells(nb: nbformat.NotebookNode, folder: str, name: str) -> None:
    tags = {tag for cell in nb.cells for tag in cell.metadata.get("tags", [])}
    for tag in (BADGE_TAG, SETUP_TAG):
        if tag not in tags:
            raise ReleaseError(f"{name}: no cell tagged {tag!r}; every notebook needs its "
                               "Colab badge and Colab setup cell")
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if BADGE_TAG in tags:
            cell.source = re.sub(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)",
                                 lambda _: badge_source(folder, name), cell.source)
            if "[![Open In Colab]" not in cell.source:
                cell.source = badge_source(folder, name) + "\n\n" + cell.source
        if SETUP_TAG in tags:
            cell.source = setup_source()


def refresh_solution(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The solution notebook with its Colab cells re-rendered and nbgrader metadata
    (outputs untouched)."""
    nb = copy.deepcopy(nb)
    _header_cells(nb, "solutions", name)
    nbgrader_metadata(nb)
    return nb


def student_copy(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The released form of a solution notebook named ``name`` (``NN_topic.ipynb``)."""
    match = NOTEBOOK_NAME.match(name)
    if not match:
        raise ReleaseError(f"{name}: notebook names look like 'NN_topic.ipynb'")
    nb = copy.deepcopy(solution)
    _header_cells(nb, "notebooks", name)
    nbgrader_metadata(nb)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if BEGIN in cell.source:
            cell.source = strip_solution(cell.source)
    nb.metadata["labkit"] = {"lab": match.group(1), "release": cells_hash(nb)}
    nb.metadata.pop("widgets", None)
    return nb


@dataclass
class ReleaseReport:
    """Which files the release wrote (or, with ``check``, would write)."""

    changed: list[Path]
    unchanged: list[Path]

    def __repr__(self) -> str:
        return f"<ReleaseReport {len(self.changed)} changed, {len(self.unchanged)} unchanged>"


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The notebook as written to disk (nbformat's layout plus a final newline)."""
    return nbformat.writes(nb) + "\n"


def _edited_by_hand(path: Path) -> bool:
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError, json.JSONDecodeError, nbformat.reader.NotJSONError):
        return True
    recorded = nb.metadata.get("labkit", {}).get("release")
    return recorded != cells_hash(nb)


def release(solutions: Path | str = "solutions", notebooks: Path | str = "notebooks", *,
            check: bool = False, force: bool = False, only: list[str] | None = None
            ) -> ReleaseReport:
    """Build ``notebooks/`` from ``solutions/``; with ``check`` only report differences.

    ``only`` limits the release to some notebooks, named by lab (``"02"``) or file name.
    """
    solutions, notebooks = Path(solutions), Path(notebooks)
    sources = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ReleaseError(f"no notebooks named NN_topic.ipynb in {solutions}/")
    if only:
        chosen = [s for s in sources if any(s.name == o or s.stem == o or s.name[:2] == o
                                            for o in only)]
        if not chosen:
            raise ReleaseError(f"none of {', '.join(only)} names a notebook in {solutions}/ "
                               f"(have: {', '.join(s.name for s in sources)})")
        sources = chosen
    report = ReleaseReport([], [])
    for src in sources:
        solution = nbformat.read(src, as_version=4)
        targets = [(src, notebook_text(refresh_solution(solution, src.name)), False),
                   (notebooks / src.name, notebook_text(student_copy(solution, src.name)), True)]
        for path, text, is_student in targets:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                report.unchanged.append(path)
                continue
            report.changed.append(path)
            if check:
                continue
            if is_student and current is not None and not force and _edited_by_hand(path):
                raise ReleaseError(
                    f"{path} was edited after the last release (someone's work is in it); "
                    "move it elsewhere to keep it, or pass --force to overwrite it"
                )
            write_text_atomic(path, text)
    return report
