"""``labkit grade``: grade a folder of submissions into a gradebook CSV and feedback files.

Every submission is a task on a Dask cluster (:mod:`labkit.grading.engine`): a
``LocalCluster`` of ``workers`` processes started for the run, or the cluster at
``scheduler``; either way the task carries the file's bytes and runs the same judge
(:mod:`labkit.grading.worker`) in its own process, within a time limit, calling the
student's functions inside a bubblewrap sandbox. One run grades one lab: ``lab``, or the
lab most submissions name (:func:`infer_lab`).

Each finished row goes to the journal first (:mod:`labkit.grading.journal`, fsync'd), then
the gradebook is rewritten atomically, so a crash or Ctrl-C loses nothing and
``resume=True`` grades only what is missing. A submission's tests use a seed derived from
the run's ``seed`` and the file's content hash, so regrading gives the same gradebook.
Identical files are graded once and flagged. The gradebook has one row per submission and
one column per exercise; cells a spreadsheet would run as formulas are neutralised, and
neither it nor the feedback files replace existing files unless ``overwrite=True`` (or
``resume=True``). Submissions are never modified.

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
import re
import secrets
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit._io import write_text_atomic
from labkit.grading.names import NOTEBOOK_NAME
from labkit.grading.registry import lab_exercises

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
    seconds: float = 0.0  # the task's wall time (judge process included)
    flags: list[str] = field(default_factory=list)
    sha256: str = ""
    seed: int | None = None
    worker: str = ""
    resumed: bool = False  # the row came from the journal of an earlier run

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
                     "status", "message", "flags", "seed", "sha256"])
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
            s.message, "; ".join(s.flags), "" if s.seed is None else s.seed, s.sha256)])
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
             f"- score: **{sub.score}/{sub.max_score}**"]
    if sub.seed is not None:
        lines.append(f"- seed of your tests: {sub.seed} (`check(\"ID\", your_function, "
                     f"seed={sub.seed})` replays them)")
    lines.append("")
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


def _apply(sub: Submission, row: dict[str, Any]) -> None:
    sub.status, sub.lab = row.get("status", "error"), row.get("lab") or sub.lab
    sub.message = row.get("message", "")
    sub.results, sub.flags = list(row.get("results", [])), list(row.get("flags", []))
    sub.seconds = float(row.get("wall_seconds", row.get("seconds", 0.0)) or 0.0)
    sub.worker = str(row.get("worker", ""))


def _hash(sub: Submission) -> bool:
    """Set the submission's content hash; False (with a status row) when it cannot be
    graded. The bytes are read again when its task is sent (see :func:`run_tasks`)."""
    from labkit.grading.engine import MAX_SUBMISSION_BYTES
    from labkit.grading.journal import content_hash

    try:
        size = sub.path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            sub.status = "not a notebook"
            sub.message = (f"the file is {size / 2**20:.0f} MiB; the grader takes notebooks "
                           f"up to {MAX_SUBMISSION_BYTES // 2**20} MiB")
            return False
        sub.sha256 = content_hash(sub.path.read_bytes())
    except OSError as exc:
        sub.status, sub.message = "not a notebook", f"cannot read the file ({exc})"
        return False
    return True


def _same_files(subs: list[Submission]) -> None:
    """Flag submissions whose bytes are identical to another student's."""
    by_hash: dict[str, list[Submission]] = {}
    for sub in subs:
        if sub.sha256:
            by_hash.setdefault(sub.sha256, []).append(sub)
    for group in by_hash.values():
        students = sorted({s.student for s in group})
        if len(students) > 1:
            for sub in group:
                others = ", ".join(x for x in students if x != sub.student)
                sub.flags.append(f"same file as {others}")


class _Outputs:
    """Writes the gradebook (and feedback) of the rows finished so far, atomically."""

    def __init__(self, subs: list[Submission], output: Path, feedback: Path, fmt: str,
                 every_s: float = 5.0):
        self.subs, self.output, self.feedback, self.fmt = subs, output, feedback, fmt
        self.every_s, self._last = every_s, 0.0

    def write(self, *, final: bool = False, force: bool = False) -> None:
        if not (final or force) and time.monotonic() - self._last < self.every_s:
            return
        from labkit.grading.formats import render

        done = [s for s in self.subs if s.status != "pending"]
        write_text_atomic(self.output, render(done, self.fmt))
        if final:
            for sub, path in zip(self.subs, _feedback_paths(self.subs, self.feedback).values()):
                write_text_atomic(path, feedback_markdown(sub))
        self._last = time.monotonic()


def grade(paths: list[Path | str], *, output: Path | str = "gradebook.csv",
          feedback: Path | str | None = None, lab: str | None = None,
          workers: int | None = None, scheduler: str | None = None, seed: int | None = None,
          resume: bool = False, timeout_s: float = 600.0, id_pattern: str | None = None,
          overwrite: bool = False, progress: bool = True, sandbox: bool = True,
          fmt: str = "wide", report: Path | str | None = None,
          log: Any = None) -> list[Submission]:
    """Grade submissions into ``output`` (CSV) and ``feedback/`` (Markdown per student).

    Every submission is graded as ``lab`` (default: the lab most of them name, reported
    through ``log``), as a task on a LocalCluster of ``workers`` processes (default: one
    per core) or on the Dask cluster at ``scheduler``. ``seed`` (default 0, or the journal's
    on ``resume``) fixes every test input; ``resume`` reuses the journal's rows for files
    graded before. ``fmt`` is the gradebook's layout (:mod:`labkit.grading.formats`):
    ``"wide"``, ``"long"`` or ``"lms"``. ``report`` also writes the HTML report there.
    ``sandbox=False`` runs the students' code without bubblewrap, with a warning; otherwise
    a missing sandbox is an error that says how to install it. Ctrl-C keeps the journal
    and writes the gradebook of what finished before re-raising ``KeyboardInterrupt``.
    """
    from labkit.grading.journal import finished_rows, journal_path, journal_seed

    log = log or (lambda text: None)
    _check_options(workers=workers, timeout_s=timeout_s, fmt=fmt, seed=seed)
    output = Path(output)
    feedback = Path(feedback) if feedback else output.with_name(output.stem + "_feedback")
    journal_file = journal_path(output)
    files = find_submissions([Path(p) for p in paths])
    if not files:
        raise ValueError(f"no submissions found in {', '.join(map(str, paths))}")
    lab = _run_lab(lab, files, log)
    subs = [Submission(f, student_id(f, id_pattern), status="pending", lab=lab) for f in files]
    if not (overwrite or resume):
        _refuse_to_overwrite([output, journal_file, *_feedback_paths(subs, feedback).values()],
                             journal_file)
    if seed is None:
        seed = (journal_seed(journal_file) if resume else None) or 0
    _check_sandbox(sandbox, scheduler, log)
    reusable = finished_rows(journal_file, lab=lab, run_seed=seed) if resume else {}
    tasks, waiting = _plan_tasks(subs, reusable, seed=seed, lab=lab, timeout_s=timeout_s,
                                 sandbox=sandbox)
    if resume:
        log(f"resuming: {sum(s.resumed for s in subs)} of {len(subs)} submissions are in "
            f"{journal_file.name} already; grading {sum(map(len, waiting.values()))}")
    outputs = _Outputs(subs, output, feedback, fmt)
    _run_tasks(tasks, waiting, outputs, journal_file=journal_file, fresh=not resume, lab=lab,
               seed=seed, workers=workers, scheduler=scheduler, sandbox=sandbox,
               progress=progress, log=log)
    _same_files(subs)
    outputs.write(final=True)
    if report:
        from labkit.grading.report import write_report

        write_report(subs, Path(report))
    return subs


def _check_options(*, workers: int | None, timeout_s: float, fmt: str, seed: int | None) -> None:
    from labkit.grading.formats import FORMATS

    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed < 2**63):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _refuse_to_overwrite(targets: list[Path], journal_file: Path) -> None:
    existing = [t for t in targets if t.exists()]
    if journal_file in existing:
        raise FileExistsError(f"{journal_file} already exists: pass --resume to finish "
                              "the run it records, --overwrite to start again, or choose "
                              "another -o")
    if existing:
        raise FileExistsError(f"{existing[0]} already exists; pass --overwrite to replace "
                              "it, or choose another -o / --feedback")


def _check_sandbox(sandbox: bool, scheduler: str | None, log: Any) -> None:
    if sandbox:
        if scheduler is None:
            from labkit.grading.sandbox import sandbox_problem

            problem = sandbox_problem()
            if problem:
                raise RuntimeError(f"the grading sandbox does not work here: {problem}")
        return
    warnings.warn("grading WITHOUT the sandbox (--no-sandbox): the students' code can read "
                  "and change your files and use the network. Use it only for code you "
                  "trust.", stacklevel=3)
    log("WARNING: grading without the sandbox: submissions can touch your files")


def _plan_tasks(subs: list[Submission], reusable: dict[str, Any], *, seed: int, lab: str,
                timeout_s: float, sandbox: bool
                ) -> tuple[dict[str, dict[str, Any]], dict[str, list[Submission]]]:
    """One task per distinct file still to grade, and the submissions waiting on each;
    rows of the journal (``reusable``) are applied at once."""
    from labkit.grading.journal import submission_seed

    tasks: dict[str, dict[str, Any]] = {}
    waiting: dict[str, list[Submission]] = {}
    token = secrets.token_hex(4)
    for sub in subs:
        if not _hash(sub):
            continue
        sub.seed = submission_seed(seed, sub.sha256)
        if sub.sha256 in reusable:
            _apply(sub, reusable[sub.sha256]["row"])
            sub.resumed = True
            continue
        key = f"labkit-grade-{token}-{sub.sha256[:16]}"
        waiting.setdefault(key, []).append(sub)
        tasks.setdefault(key, {"name": sub.path.name, "path": str(sub.path), "sha256": sub.sha256,
                               "lab": lab, "seed": sub.seed, "timeout_s": timeout_s,
                               "sandbox": sandbox})
    return tasks, waiting


def _run_tasks(tasks: dict[str, dict[str, Any]], waiting: dict[str, list[Submission]],
               outputs: _Outputs, *, journal_file: Path, fresh: bool, lab: str, seed: int,
               workers: int | None, scheduler: str | None, sandbox: bool, progress: bool,
               log: Any) -> None:
    """Run ``tasks`` on the cluster, journal each finished row, keep ``outputs`` current;
    on any exception (Ctrl-C too) write what finished before re-raising."""
    from tqdm.auto import tqdm

    from labkit.grading.engine import (
        check_workers,
        default_workers,
        grading_client,
        interrupt_flag,
        run_tasks,
    )
    from labkit.grading.journal import Journal, grader_version

    version = grader_version()
    with Journal(journal_file, fresh=fresh) as journal, interrupt_flag() as interrupted:
        try:
            if not tasks:
                return
            n_workers = min(workers or default_workers(), len(tasks))
            with grading_client(scheduler=scheduler, workers=n_workers, log=log) as client:
                check_workers(client, sandbox=sandbox and scheduler is not None)
                bar = tqdm(total=len(tasks), desc="grading", unit="nb", disable=not progress)
                for key, row in run_tasks(client, tasks, interrupted=interrupted):
                    foreign = row.get("labkit") != version
                    if foreign:  # not journaled: a later --resume grades it again
                        row = {**row, "status": "error", "results": [], "message": (
                            f"graded by labkit {row.get('labkit')} on {row.get('worker')}, "
                            f"not {version}: install the same labkit on every worker")}
                    for sub in waiting[key]:
                        _apply(sub, row)
                        if not (foreign or row.get("retry")):
                            journal.append({"hash": sub.sha256, "lab": lab, "labkit": version,
                                            "run_seed": seed, "seed": sub.seed,
                                            "student": sub.student, "file": str(sub.path),
                                            "row": row, "time": time.time()})
                    outputs.write()
                    bar.update(1)
                bar.close()
        except BaseException:
            outputs.write(force=True)  # what finished, consistent with the journal
            raise


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
