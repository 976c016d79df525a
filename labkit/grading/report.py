"""``labkit report``: one self-contained HTML page about a graded class, for instructors.

``labkit report gradebook.csv -o report.html`` (or ``labkit grade --report``) shows:
the statuses (ok, timeouts, errors, files that are not notebooks, flagged copies of
labkit's reference or of another student's file); the distribution of scores per lab and
per exercise; the share of submissions failing each test stage; the most common failure
messages per exercise, grouped (numbers become ``#``, so the same mistake on different
random inputs counts once); the time per submission; and a table of students that sorts
when a column header is clicked. Plots are PNGs embedded in the page; it loads nothing
from the network. Everything that comes from a submission is HTML-escaped.

The report reads the gradebook (wide or long layout) and, for the per-exercise detail
and the times, the journal next to it (:mod:`labkit.grading.journal`); without a journal
it shows what the CSV holds.

Example
-------
>>> from pathlib import Path
>>> from labkit.grading.grader import Submission
>>> sub = Submission(Path("a.ipynb"), "<b>al</b>", "ok", "00", seconds=3.0, results=[
...     {"exercise_id": "00.model_size_bytes", "score": 1, "max_score": 3, "status": "failed",
...      "stage": "values", "message": "size(3, 4) = 1, expected 2"}])
>>> page = report_html([sub])
>>> "&lt;b&gt;al&lt;/b&gt;" in page and "<b>al</b>" not in page and "://" not in page
True
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

from labkit._io import write_text_atomic
from labkit.grading.registry import lab_exercises

STAGES = ("callable", "call", "type", "shape", "dtype", "values", "reference", "error",
          "time limit")


class ReportError(Exception):
    """The gradebook cannot be read into a report."""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def message_group(message: str) -> str:
    """A failure message with its numbers replaced by ``#``: one group per mistake.

    >>> message_group("random models: f(12, 3) = 4, expected 5")
    'random models: f(#, #) = #, expected #'
    """
    text = re.sub(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", str(message))
    text = re.sub(r"\[[#,.\s]+\]", "[…]", text)
    return " ".join(text.split())[:240]


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------

def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _score_plot(subs: list[Any], lab: str) -> str:
    fig, ax = _figure()
    percents = [100 * s.score / s.max_score for s in subs if s.max_score]
    ax.hist(percents, bins=[i * 10 for i in range(11)], color="#3a6ea5", edgecolor="white")
    ax.set_title(f"Lab {lab}: score distribution ({len(percents)} graded submissions)")
    ax.set_xlabel("score (% of the lab's points)")
    ax.set_ylabel("submissions")
    ax.set_xlim(0, 100)
    return _png(fig)


def _exercise_plot(subs: list[Any], lab: str) -> str:
    exercises = lab_exercises(lab)
    kinds = ("full marks", "partial", "zero (failed)", "not attempted", "missing / not graded")
    colors = ("#2e7d32", "#f9a825", "#c62828", "#9e9e9e", "#5d4037")
    counts = {k: [0] * len(exercises) for k in kinds}
    for s in subs:
        results = {r["exercise_id"]: r for r in s.results}
        for i, e in enumerate(exercises):
            r = results.get(e.id)
            if r is None or r["status"] == "missing":
                counts[kinds[4]][i] += 1
            elif r["status"] == "not attempted":
                counts[kinds[3]][i] += 1
            elif r["score"] >= r["max_score"]:
                counts[kinds[0]][i] += 1
            elif r["score"] > 0:
                counts[kinds[1]][i] += 1
            else:
                counts[kinds[2]][i] += 1
    fig, ax = _figure(7.0, 0.5 + 0.45 * len(exercises))
    names = [e.id for e in exercises]
    left = [0] * len(exercises)
    for kind, color in zip(kinds, colors):
        ax.barh(names, counts[kind], left=left, color=color, label=kind)
        left = [a + b for a, b in zip(left, counts[kind])]
    ax.invert_yaxis()
    ax.set_title(f"Lab {lab}: outcome per exercise")
    ax.set_xlabel("submissions")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.9)
    return _png(fig)


def _time_plot(subs: list[Any]) -> str:
    fig, ax = _figure()
    seconds = [s.seconds for s in subs if s.seconds]
    ax.hist(seconds, bins=min(20, max(5, len(seconds) // 3)), color="#6a4c93", edgecolor="white")
    ax.set_title(f"Time per submission (median {sorted(seconds)[len(seconds) // 2]:.1f} s)"
                 if seconds else "Time per submission")
    ax.set_xlabel("grading time per submission (s)")
    ax.set_ylabel("submissions")
    return _png(fig)


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------

def _table(header: list[str], rows: list[list[Any]], *, sortable: bool = False,
           numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f'<th data-type="{"num" if i in numeric else "text"}">{_esc(h)}</th>'
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(
        f'<td class="num">{_esc(c)}</td>' if i in numeric else f"<td>{_esc(c)}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _statuses(subs: list[Any]) -> str:
    from labkit.grading.grader import STATUSES

    counts = Counter(s.status for s in subs)
    reference = sum(any("like labkit's reference" in f for f in s.flags) for s in subs)
    copies = sum(any(f.startswith("same file as") for f in s.flags) for s in subs)
    rows = [[st, counts.get(st, 0)] for st in STATUSES]
    rows += [["flagged: like labkit's reference", reference],
             ["flagged: same file as another student", copies]]
    return _table(["status", "submissions"], rows, numeric={1})


def _stages(subs: list[Any], lab: str) -> str:
    rows = []
    graded = [s for s in subs if s.status == "ok"]
    for e in lab_exercises(lab):
        stages: Counter[str] = Counter()
        for s in graded:
            for r in s.results:
                if r["exercise_id"] == e.id and r["status"] == "failed":
                    stages[r.get("stage") or "?"] += 1
        share = [f"{100 * stages.get(st, 0) / len(graded):.0f} %" if graded else "-"
                 for st in STAGES]
        rows.append([e.id, *share])
    return _table(["exercise", *STAGES], rows)


def _messages(subs: list[Any], lab: str, top: int = 5) -> str:
    parts = []
    for e in lab_exercises(lab):
        groups: Counter[str] = Counter()
        for s in subs:
            for r in s.results:
                if r["exercise_id"] == e.id and r["status"] == "failed" and r.get("message"):
                    groups[message_group(r["message"])] += 1
        if not groups:
            parts.append(f"<h4>{_esc(e.id)}</h4><p>No failures.</p>")
            continue
        rows = [[count, text] for text, count in groups.most_common(top)]
        parts.append(f"<h4>{_esc(e.id)}</h4>" + _table(["submissions", "message (numbers as #)"],
                                                       rows, numeric={0}))
    return "".join(parts)


def _students(subs: list[Any]) -> str:
    labs = sorted({s.lab for s in subs if s.lab})
    exercise_ids = [e.id for lab in labs for e in lab_exercises(lab)]
    header = ["student", "lab", *exercise_ids, "score", "max", "percent", "status", "time (s)",
              "flags"]
    rows = []
    for s in subs:
        scores = {r["exercise_id"]: r["score"] for r in s.results}
        pct = f"{100 * s.score / s.max_score:.1f}" if s.max_score else "0.0"
        rows.append([s.student, s.lab or "", *(scores.get(e, "") for e in exercise_ids),
                     s.score, s.max_score, pct, s.status, f"{s.seconds:.1f}", "; ".join(s.flags)])
    numeric = {2 + i for i in range(len(exercise_ids) + 3)} | {len(header) - 2}
    return _table(header, rows, sortable=True, numeric=numeric)


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#e4e4e4}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plots img{max-width:100%;border:1px solid #eee}
.muted{color:#666}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var desc = th.classList.contains("asc"), numeric = th.dataset.type === "num";
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(desc ? "desc" : "asc");
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return desc ? -c : c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def report_html(subs: list[Any], *, title: str = "Grading report") -> str:
    """The report page for graded submissions (:class:`~labkit.grading.grader.Submission`)."""
    labs = sorted({s.lab for s in subs if s.lab})
    graded = [s for s in subs if s.max_score]
    mean = (sum(100 * s.score / s.max_score for s in graded) / len(graded)) if graded else 0.0
    sections = [f"<h1>{_esc(title)}</h1>",
                f'<p class="muted">{len(subs)} submissions; lab {_esc(", ".join(labs) or "?")}; '
                f"mean score {mean:.1f} % over {len(graded)} graded.</p>",
                "<h2>Statuses and flags</h2>", _statuses(subs)]
    for lab in labs:
        mine = [s for s in subs if s.lab == lab]
        sections += [f"<h2>Lab {_esc(lab)}: scores</h2>",
                     f'<div class="plots">{_score_plot(mine, lab)}{_exercise_plot(mine, lab)}</div>',
                     f"<h3>Lab {_esc(lab)}: share of graded submissions failing at each test "
                     "stage</h3>", _stages(mine, lab),
                     f"<h3>Lab {_esc(lab)}: most common failure messages</h3>",
                     _messages(mine, lab)]
    sections += ["<h2>Time per submission</h2>", f'<div class="plots">{_time_plot(subs)}</div>',
                 "<h2>Students</h2><p class=\"muted\">Click a column header to sort.</p>",
                 _students(subs)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>"
            + "".join(sections) + f"<script>{_SCRIPT}</script></body></html>\n")


def write_report(subs: list[Any], path: Path, *, title: str = "Grading report") -> None:
    """Write :func:`report_html` to ``path`` atomically."""
    write_text_atomic(path, report_html(subs, title=title))


# --------------------------------------------------------------------------------------
# From a gradebook on disk
# --------------------------------------------------------------------------------------

def _int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _unsafe(text: str) -> str:
    """Undo :func:`~labkit.grading.grader.spreadsheet_safe`'s apostrophe."""
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@", "'\t", "'\r") else text


def load_gradebook(path: Path) -> list[Any]:
    """Submissions from a wide or long gradebook CSV, with the journal's detail if any."""
    from labkit.grading.grader import Submission
    from labkit.grading.journal import journal_path, read_entries

    try:
        table = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from exc
    if not table:
        raise ReportError(f"{path} has no rows")
    columns = set(table[0])
    long = {"exercise", "score", "max_score"} <= columns
    if not long and not {"student", "file", "lab", "status"} <= columns:
        raise ReportError(f"{path} is not a labkit gradebook in the wide or long layout "
                          "(the lms layout has no detail to report on)")
    entries = {(e.get("file"), e.get("hash")): e for e in read_entries(journal_path(path))}
    subs: dict[tuple[str, str], Any] = {}
    for row in table:
        key = (_unsafe(row["file"]), row.get("sha256", ""))
        sub = subs.get(key)
        if sub is None:
            sub = Submission(Path(key[0]), _unsafe(row["student"]), lab=row["lab"] or None,
                             sha256=key[1], seed=_int(row.get("seed", "")))
            if not long:
                sub.status, sub.message = row["status"], _unsafe(row.get("message", ""))
                sub.flags = [f for f in _unsafe(row.get("flags", "")).split("; ") if f]
            subs[key] = sub
            entry = entries.get(key)
            if entry:
                row_data = entry["row"]
                sub.results = list(row_data.get("results", []))
                sub.seconds = float(row_data.get("wall_seconds", 0.0) or 0.0)
                if long:
                    sub.status, sub.message = row_data["status"], row_data.get("message", "")
                    sub.flags = list(row_data.get("flags", []))
        if long and not entries.get(key):
            status = row["status"]
            graded = status in ("passed", "failed", "not attempted", "missing")
            sub.status = "ok" if graded else status
            if graded:
                sub.results.append({"exercise_id": row["exercise"], "score": int(row["score"]),
                                    "max_score": int(row["max_score"]), "status": status,
                                    "stage": row.get("stage", ""),
                                    "message": _unsafe(row.get("message", ""))})
        elif not long and not entries.get(key) and sub.lab:
            for e in lab_exercises(sub.lab):
                score = _int(row.get(e.id, ""))
                if score is not None:
                    sub.results.append({"exercise_id": e.id, "score": score,
                                        "max_score": e.points,
                                        "status": "passed" if score == e.points else "failed",
                                        "stage": "", "message": ""})
    return list(subs.values())


def report_from_gradebook(gradebook: Path | str, output: Path | str) -> list[Any]:
    """``labkit report``: read ``gradebook`` (and its journal), write the page to ``output``."""
    gradebook, output = Path(gradebook), Path(output)
    subs = load_gradebook(gradebook)
    write_report(subs, output, title=f"Grading report: {gradebook.name}")
    return subs
