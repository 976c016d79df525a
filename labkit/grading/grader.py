"""``labkit grade``: grade a folder of submissions into a gradebook CSV and feedback files.

Each submission is judged by its own worker process (:mod:`labkit.grading.worker`),
``workers`` at a time, each within a time limit: the worker runs the lab's tests itself and
calls the student's functions inside a bubblewrap sandbox. One run grades one lab: ``lab``,
or the lab most submissions name (:func:`infer_lab`). The gradebook has one row per
submission and one column per exercise; it is written atomically, cells a spreadsheet
would run as formulas are neutralised, and neither it nor the feedback files replace
existing files unless ``overwrite=True``. Submissions are never modified.

Example
-------
>>> student_id(Path("submissions/alice/00_welcome_and_setup.ipynb"))
'alice'
>>> student_id(Path("bob_00.ipynb"), r"(?P<id>[a-z]+)_")
'bob'
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import secrets
import subprocess
import sys
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit._io import write_text_atomic
from labkit.grading.registry import lab_exercises
from labkit.grading.release import NOTEBOOK_NAME

STATUSES = ("ok", "timeout", "error", "not a notebook", "wrong notebook")


@dataclass
class Submission:
    """One graded file: who, which lab, status and per-exercise results."""

    path: Path
    student: str
    status: str = "error"
    lab: str | None = None
    message: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(r["score"] for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r["max_score"] for r in self.results)

    def __repr__(self) -> str:
        return f"<Submission {self.student} lab {self.lab}: {self.score}/{self.max_score} {self.status}>"


def student_id(path: Path, pattern: str | None = None) -> str:
    """The student's id from the file name: ``pattern``'s group ``id`` (or group 1), else
    the parent folder for a file named like the course notebook, else the file's stem."""
    if pattern:
        match = re.search(pattern, path.name)
        if match:
            return match.group("id") if "id" in match.re.groupindex else match.group(
                1 if match.re.groups else 0)
    if NOTEBOOK_NAME.match(path.name) and path.parent.name:
        return path.parent.name
    return path.stem


def find_submissions(paths: list[Path]) -> list[Path]:
    """Files named on the command line, and every ``*.ipynb`` below named folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in p.parts and p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def infer_lab(files: list[Path]) -> tuple[Counter[str], int]:
    """Which labs ``files`` say they are (metadata, name, check cells): ``(votes per lab,
    notebooks)``, where ``notebooks`` counts the files that are notebooks at all."""
    from labkit.grading.worker import notebook_lab, read_submission

    votes: Counter[str] = Counter()
    notebooks = 0
    for path in files:
        try:
            lab = notebook_lab(read_submission(path), path)
        except ValueError:
            continue
        notebooks += 1
        if lab:
            votes[lab] += 1
    return votes, notebooks


def _run_worker(sub: Submission, lab: str | None, seed: int, timeout_s: float,
                sandbox: bool) -> Submission:
    cmd = [sys.executable, "-m", "labkit.grading.worker", str(sub.path), "--seed", str(seed),
           "--setup-timeout", str(timeout_s)] + (["--lab", lab] if lab else [])
    if not sandbox:
        cmd.append("--no-sandbox")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        sub.status, sub.message = "timeout", f"did not finish within {timeout_s:g} s"
        sub.seconds = round(time.monotonic() - start, 1)
        return sub
    sub.seconds = round(time.monotonic() - start, 1)
    lines = [line for line in out.splitlines() if line.strip()]
    try:
        row = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        sub.status, sub.message = "error", f"grader worker failed (exit code {proc.returncode})"
        return sub
    sub.status, sub.lab, sub.message = row["status"], row.get("lab"), row.get("message", "")
    sub.results, sub.flags = row.get("results", []), row.get("flags", [])
    return sub


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula: text starting with ``= + - @``
    (or a tab / carriage return) gets a leading apostrophe.

    >>> print(spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe(-3))
    '=HYPERLINK(1) -3
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _columns(subs: list[Submission]) -> list[str]:
    labs = sorted({s.lab for s in subs if s.lab and s.status != "wrong notebook"})
    return [e.id for lab in labs for e in lab_exercises(lab)]


def gradebook_csv(subs: list[Submission]) -> str:
    """The gradebook as CSV text: one row per submission, one column per exercise."""
    exercise_ids = _columns(subs)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "file", "lab", *exercise_ids, "total", "max", "percent",
                     "status", "message", "flags"])
    for s in subs:
        scores = {r["exercise_id"]: r["score"] for r in s.results}
        maxes = {e: 0 for e in exercise_ids}
        if s.lab:
            maxes.update({e.id: e.points for e in lab_exercises(s.lab)})
        max_total = sum(maxes[e] for e in exercise_ids if e.startswith(f"{s.lab}."))
        percent = f"{100 * s.score / max_total:.1f}" if max_total else "0.0"
        cells = [scores.get(e, 0) if e.startswith(f"{s.lab}.") else "" for e in exercise_ids]
        writer.writerow([spreadsheet_safe(v) for v in (
            s.student, str(s.path), s.lab or "", *cells, s.score, max_total, percent, s.status,
            s.message, "; ".join(s.flags))])
    return buffer.getvalue()


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def markdown_text(text: Any) -> str:
    """Text shown literally in Markdown: HTML and Markdown syntax escaped, one line.

    >>> print(markdown_text("<img src=x onerror=alert(1)> **bold**"))
    &lt;img src=x onerror=alert\\(1\\)&gt; \\*\\*bold\\*\\*
    """
    flat = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", html.escape(flat, quote=False))


def feedback_markdown(sub: Submission) -> str:
    """Per-student feedback: status, then each exercise's line and hint. Everything that
    comes from the submission (its name, its values in messages) is escaped."""
    md = markdown_text
    lines = [f"# Feedback for {md(sub.student)}", "",
             f"- notebook: {md(sub.path.name)} (lab {md(sub.lab or '?')})",
             f"- status: **{md(sub.status)}**" + (f" — {md(sub.message)}" if sub.message else ""),
             f"- score: **{sub.score}/{sub.max_score}**", ""]
    for r in sub.results:
        mark = {"passed": "✓", "not attempted": "○"}.get(r["status"], "✗")
        lines.append(f"## {mark} {md(r['exercise_id'])}: {r['score']}/{r['max_score']} points")
        if r["status"] == "not attempted":
            lines.append("Not attempted.")
        elif r["status"] != "passed":
            lines.append(md(r["message"]))
            if r.get("hint"):
                lines.append(f"\nHint: {md(r['hint'])}")
        if r.get("seed") is not None and r["status"] == "failed":
            lines.append(f"\n(Tests ran with seed {r['seed']}.)")
        lines.append("")
    return "\n".join(lines)


def _feedback_paths(subs: list[Submission], folder: Path) -> dict[int, Path]:
    paths: dict[int, Path] = {}
    used: set[Path] = set()
    for i, sub in enumerate(subs):
        base = f"{sub.student}_{sub.lab or sub.path.stem}"
        candidate, n = folder / f"{base}.md", 1
        while candidate in used:
            n += 1
            candidate = folder / f"{base}_{n}.md"
        used.add(candidate)
        paths[i] = candidate
    return paths


def _run_lab(lab: str | None, files: list[Path], log: Any) -> str | None:
    """The one lab this run grades: ``lab``, else the one most files name."""
    if lab is not None:
        if not re.fullmatch(r"\d\d", str(lab)):
            raise ValueError(f"lab must be two digits, e.g. 02; got {lab!r}")
        return lab
    votes, notebooks = infer_lab(files)
    if not notebooks:
        return None  # nothing to grade: every row will say "not a notebook"
    lab, count = votes.most_common(1)[0] if votes else (None, 0)
    if lab is None or 2 * count <= notebooks:
        named = ", ".join(f"lab {k} ({v})" for k, v in sorted(votes.items())) or "no lab"
        raise ValueError(f"cannot tell which lab to grade: the notebooks name {named}; "
                         "grade one lab per run with --lab NN")
    log(f"grading as lab {lab} ({count} of {notebooks} notebooks say so; --lab chooses)")
    return lab


def grade(paths: list[Path | str], *, output: Path | str = "gradebook.csv",
          feedback: Path | str | None = None, lab: str | None = None, workers: int = 1,
          timeout_s: float = 600.0, id_pattern: str | None = None, overwrite: bool = False,
          progress: bool = True, sandbox: bool = True,
          log: Any = None) -> list[Submission]:
    """Grade submissions into ``output`` (CSV) and ``feedback/`` (Markdown per student).

    Every submission is graded as ``lab`` (default: the lab most of them name, reported
    through ``log``). ``sandbox=False`` runs the students' code without bubblewrap, with a
    warning; otherwise a missing sandbox is an error that says how to install it.
    """
    log = log or (lambda text: None)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    output = Path(output)
    feedback = Path(feedback) if feedback else output.with_name(output.stem + "_feedback")
    files = find_submissions([Path(p) for p in paths])
    if not files:
        raise ValueError(f"no submissions found in {', '.join(map(str, paths))}")
    subs = [Submission(f, student_id(f, id_pattern)) for f in files]
    targets = [output, *_feedback_paths(subs, feedback).values()]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} already exists; pass --overwrite to replace "
                              "it, or choose another -o / --feedback")
    lab = _run_lab(lab, files, log)
    if sandbox:
        from labkit.grading.sandbox import sandbox_problem

        problem = sandbox_problem()
        if problem:
            raise RuntimeError(f"the grading sandbox does not work here: {problem}")
    else:
        warnings.warn("grading WITHOUT the sandbox (--no-sandbox): the students' code can read "
                      "and change your files and use the network. Use it only for code you "
                      "trust.", stacklevel=2)
        log("WARNING: grading without the sandbox: submissions can touch your files")
    seed = secrets.randbelow(2**31)
    from tqdm.auto import tqdm

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_worker, s, lab, seed, timeout_s, sandbox) for s in subs]
        for _ in tqdm(as_completed(futures), total=len(futures), desc="grading",
                      unit="nb", disable=not progress):
            pass
    for sub, path in zip(subs, _feedback_paths(subs, feedback).values()):
        write_text_atomic(path, feedback_markdown(sub))
    write_text_atomic(output, gradebook_csv(subs))
    return subs


def summary_table(subs: list[Submission]) -> str:
    """A plain-text table of the grading run for the terminal."""
    rows = [("student", "lab", "score", "percent", "status", "time")]
    for s in subs:
        pct = f"{100 * s.score / s.max_score:.0f}%" if s.max_score else "-"
        rows.append((s.student, s.lab or "?", f"{s.score}/{s.max_score}", pct, s.status,
                     f"{s.seconds:.0f}s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    text.insert(1, "  ".join("-" * w for w in widths))
    counts = {st: sum(s.status == st for s in subs) for st in STATUSES}
    text.append("")
    text.append(", ".join(f"{n} {st}" for st, n in counts.items() if n))
    return "\n".join(text)
