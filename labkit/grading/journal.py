"""The grading journal: what a run has finished, so a crash or Ctrl-C costs nothing.

``labkit grade -o gradebook.csv`` keeps ``gradebook.journal.jsonl`` next to the gradebook:
one JSON object per finished submission, appended, flushed and ``fsync``'d *before* the
gradebook is rewritten (atomically). A line holds the submission's content hash
(SHA-256 of its bytes), the lab, the labkit version that graded it (:func:`grader_version`),
the run's seed, the seed of the submission's tests (:func:`submission_seed`) and the judge's
row. ``labkit grade --resume`` reuses every row whose hash, lab, labkit version and run
seed match, and grades only the rest. A line cut short by a kill is ignored.

Seeds are derived, not drawn: a submission's tests use ``submission_seed(run_seed,
hash)``, so grading the same files with the same ``--seed`` gives the same gradebook, and a
student can replay their test with ``check(..., seed=S)``.

Example
-------
>>> submission_seed(0, content_hash(b"{}"))
337138223
>>> content_hash(b"{}")[:12]
'44136fa355b3'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from labkit.about import __version__

FORMAT = 1  # the journal line format


def content_hash(data: bytes) -> str:
    """SHA-256 of a submission's bytes, as hex: what "the same submission" means."""
    return hashlib.sha256(data).hexdigest()


def submission_seed(run_seed: int, digest: str) -> int:
    """The seed of one submission's tests, from the run's seed and its content hash
    (an int in ``[0, 2**31)``, like the seeds ``check()`` prints)."""
    raw = hashlib.sha256(f"labkit-seed:{int(run_seed)}:{digest}".encode()).digest()
    return int.from_bytes(raw[:4], "big") & 0x7FFF_FFFF


@lru_cache(maxsize=1)
def grader_version() -> str:
    """labkit's version plus a hash of its source (``0.1.0+3f2a…``): two graders with the
    same value judge alike, so a journal row of one can stand for the other's."""
    root = Path(__file__).resolve().parents[1]  # the labkit package
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+{h.hexdigest()[:12]}"


def journal_path(gradebook: Path) -> Path:
    """Where the journal of ``gradebook`` lives: ``<stem>.journal.jsonl`` beside it."""
    return gradebook.with_name(gradebook.stem + ".journal.jsonl")


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete, well-formed line of a journal (a torn last line is skipped)."""
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return
    for line in lines:
        try:
            entry = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(entry, dict) and entry.get("format") == FORMAT and \
                isinstance(entry.get("row"), dict):
            yield entry


class Journal:
    """An append-only journal; every :meth:`append` is on disk when it returns."""

    def __init__(self, path: Path, *, fresh: bool):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.unlink(missing_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        size = os.fstat(self._fd).st_size
        if size:  # a killed run may have left half a line: start on a fresh one
            with path.open("rb") as handle:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    os.write(self._fd, b"\n")
        self._sync_dir()

    def _sync_dir(self) -> None:
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"format": FORMAT, **entry}, sort_keys=True,
                          separators=(",", ":")) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def finished_rows(path: Path, *, lab: str | None, run_seed: int) -> dict[str, dict[str, Any]]:
    """Rows in the journal that this run may reuse, by content hash (same lab, labkit
    version and run seed)."""
    version = grader_version()
    return {e["hash"]: e for e in read_entries(path)
            if e.get("lab") == lab and e.get("labkit") == version
            and e.get("run_seed") == run_seed and isinstance(e.get("hash"), str)}


def journal_seed(path: Path) -> int | None:
    """The run seed recorded in a journal (the latest line's), or None."""
    seed = None
    for entry in read_entries(path):
        if isinstance(entry.get("run_seed"), int):
            seed = entry["run_seed"]
    return seed
