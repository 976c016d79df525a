"""labkit grade on a folder of hand-made submissions of lab 00 (good, wrong and broken)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit.cli import main
from labkit.grading.grader import grade, student_id

RIGHT = "def model_size_bytes(n, b):\n    return -(-n * b // 8)"
CHECK = 'from labkit import check\ncheck("00.model_size_bytes", model_size_bytes)'


def notebook(*sources: str, lab: str | None = "00") -> str:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if lab:
        nb.metadata["labkit"] = {"lab": lab}
    return nbformat.writes(nb)


SUBMISSIONS = {
    "right": notebook(RIGHT, CHECK),
    "floor": notebook("def model_size_bytes(n, b):\n    return n * b // 8", CHECK),
    "stub": notebook("def model_size_bytes(n, b):\n    raise NotImplementedError()", CHECK),
    "missing": notebook("x = 1"),
    # check cell deleted and replaced by a fake success line: changes nothing
    "fakecheck": notebook("def model_size_bytes(n, b):\n    return 0",
                          "print('✓ 00.model_size_bytes — 3/3 points')"),
    # the check cell comes first and fails; the answer is defined later: still graded
    "reordered": notebook(CHECK, RIGHT),
    "reference": notebook("from labkit.models import model_size_bytes as ref\n"
                          "def model_size_bytes(n, b):\n    return ref(n, b)", CHECK),
    "noisy": notebook("import sys, warnings\nprint('oops', file=sys.stderr)\n"
                      "warnings.warn('careful')\n" + RIGHT, "1 / 0", CHECK),
    # metadata naming another lab changes nothing: the run grades lab 00
    "otherlab": notebook(RIGHT, lab="01"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, text in SUBMISSIONS.items():
        (folder / f"{name}.ipynb").write_text(text)
    (folder / "garbage.ipynb").write_text("this is not json {")
    (folder / "empty.ipynb").write_bytes(b"")
    # a cell the answer depends on never finishes; an unrelated slow cell is never run
    (folder / "sleeper.ipynb").write_text(notebook(
        "import time\nDELAY = time.sleep(600)",
        "def model_size_bytes(n, b):\n    return DELAY or -(-n * b // 8)"))
    (folder / "slowcell.ipynb").write_text(notebook(RIGHT, "import time\ntime.sleep(600)"))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    out = tmp_path_factory.mktemp("out") / "gradebook.csv"
    subs = grade([folder], output=out, lab="00", workers=2, timeout_s=25, progress=False)
    return folder, before, out, {s.student: s for s in subs}


def test_scores_and_statuses(graded):
    _, _, _, subs = graded
    expected = {"right": (3, "ok"), "floor": (1, "ok"), "stub": (0, "ok"), "missing": (0, "ok"),
                "fakecheck": (0, "ok"), "reordered": (3, "ok"), "reference": (0, "ok"),
                "noisy": (3, "ok"), "otherlab": (3, "ok"), "slowcell": (3, "ok"),
                "garbage": (0, "not a notebook"), "empty": (0, "not a notebook"),
                "sleeper": (0, "timeout")}
    got = {name: (s.score, s.status) for name, s in subs.items()}
    assert got == expected


def test_feedback_messages(graded):
    _, _, out, subs = graded
    assert "function `model_size_bytes` not found" in subs["missing"].results[0]["message"]
    assert subs["stub"].results[0]["status"] == "not attempted"
    assert "not available while this lab is graded" in subs["reference"].results[0]["message"]
    assert "graded as lab 00" in subs["otherlab"].message
    feedback = out.parent / "gradebook_feedback"
    text = (feedback / "floor_00.md").read_text()
    assert "1/3" in text and "Hint:" in text
    assert len(list(feedback.glob("*.md"))) == len(subs)


def test_gradebook_columns(graded):
    _, _, out, subs = graded
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["student", "file", "lab", "00.model_size_bytes", "total", "max",
                             "percent", "status", "message", "flags", "seed", "sha256"]
    by_student = {r["student"]: r for r in rows}
    assert by_student["right"]["percent"] == "100.0" and by_student["right"]["max"] == "3"
    assert by_student["floor"]["00.model_size_bytes"] == "1"
    assert by_student["sleeper"]["status"] == "timeout"
    assert len(rows) == len(subs)
    assert not list(out.parent.glob(".*.tmp")), "atomic write leaves no temporary file"


def test_submissions_are_never_modified(graded):
    folder, before, _, _ = graded
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert after == before


def test_existing_gradebook_is_not_replaced_without_overwrite(graded, tmp_path, capsys):
    folder, _, _, _ = graded
    out = tmp_path / "gb.csv"
    out.write_text("instructor's notes")
    assert main(["grade", str(folder / "garbage.ipynb"), "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_text() == "instructor's notes"
    assert main(["grade", str(folder / "garbage.ipynb"), "-o", str(out), "--overwrite"]) == 0
    assert "not a notebook" in out.read_text()


def test_bad_arguments(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "-o", str(tmp_path / "g.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="workers"):
        grade([tmp_path], workers=0)


def test_student_ids():
    assert student_id(Path("sub/alice/00_welcome_and_setup.ipynb")) == "alice"
    assert student_id(Path("bob.ipynb")) == "bob"
    assert student_id(Path("hw_carol_00.ipynb"), r"hw_(?P<id>[a-z]+)_") == "carol"
    assert student_id(Path("dave.ipynb"), r"nomatch_(\d+)") == "dave"


def test_without_bubblewrap_grading_refuses_and_says_how_to_install(graded, tmp_path, monkeypatch,
                                                                     capsys):
    import labkit.grading.sandbox as sandbox

    folder = graded[0]
    real_which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which",
                        lambda name: None if name == "bwrap" else real_which(name))
    out = tmp_path / "g.csv"
    assert main(["grade", str(folder / "right.ipynb"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "apt-get install bubblewrap" in err and "--no-sandbox" in err
    assert not out.exists()
    with pytest.warns(UserWarning, match="WITHOUT the sandbox"):
        subs = grade([folder / "right.ipynb"], output=out, sandbox=False, progress=False)
    assert subs[0].score == 3


def test_a_folder_of_mixed_labs_needs_lab(tmp_path):
    for lab in ("00", "01"):
        (tmp_path / f"{lab}_x.ipynb").write_text(notebook(RIGHT, lab=lab))
    with pytest.raises(ValueError, match="--lab"):
        grade([tmp_path], output=tmp_path / "g.csv", progress=False)
