"""What the grading sandbox costs: `labkit grade` with and without it, side by side.

Run: ``python benchmarks/grading.py``. A class of 20 submissions of notebook 00 (half the
worked solution, half the untouched student copy) and 4 of notebook 02 (whose answers
import TensorFlow and convert a Keras model inside the sandbox) are graded with the
bubblewrap sandbox and with ``--no-sandbox``, alternating, ``--rounds`` times each. The
per-submission overhead is the difference of the median per-submission times. Writes
benchmarks/results/grading.md.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from labkit.grading.grader import grade
from labkit.system import machine_info

REPO = Path(__file__).resolve().parents[1]
CLASSES = {"00_welcome_and_setup.ipynb": 20, "02_quantization.ipynb": 4}


def make_class(folder: Path, name: str, students: int) -> Path:
    """``students`` submissions of ``name``: even ones solved, odd ones untouched."""
    class_dir = folder / name[:2]
    for i in range(students):
        source = REPO / ("solutions" if i % 2 == 0 else "notebooks") / name
        (class_dir / f"student{i:02d}").mkdir(parents=True)
        shutil.copy(source, class_dir / f"student{i:02d}" / name)
    return class_dir


def timed_run(class_dir: Path, out: Path, *, sandbox: bool, workers: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the --no-sandbox warning, once per run
        start = time.perf_counter()
        subs = grade([class_dir], output=out, workers=workers, sandbox=sandbox, progress=False,
                     overwrite=True)
        wall = time.perf_counter() - start
    right = sum(s.score == s.max_score > 0 for s in subs[::2])
    zero = sum(s.score == 0 and s.status == "ok" for s in subs[1::2])
    if right + zero != len(subs):
        raise SystemExit(f"grading went wrong: {[(s.student, s.score, s.status) for s in subs]}")
    return {"wall": wall, "per_sub": statistics.median(s.seconds for s in subs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, students in CLASSES.items():
            class_dir = make_class(Path(tmp), name, students)
            runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
            for _ in range(args.rounds):
                for sandbox in (True, False):
                    runs[sandbox].append(timed_run(class_dir, Path(tmp) / "gb.csv",
                                                   sandbox=sandbox, workers=args.workers))
            med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "per_sub")}
                   for k, v in runs.items()}
            overhead = med[True]["per_sub"] - med[False]["per_sub"]
            rows.append(f"| {name} | {students} | {med[True]['wall']:.1f} | "
                        f"{med[False]['wall']:.1f} | {med[True]['per_sub']:.2f} | "
                        f"{med[False]['per_sub']:.2f} | {overhead:+.2f} |")
    info = machine_info()
    text = "\n".join([
        "# Grading benchmark: the sandbox's cost", "",
        f"`labkit grade --workers {args.workers}` with the bubblewrap sandbox and with "
        f"`--no-sandbox`, alternating, {args.rounds} rounds each (medians). Half of each class "
        "hands in the worked solution (100 %), half the untouched student copy (0 %); every "
        "run is checked to grade them so. The judge runs only each notebook's answers and "
        "what they depend on, never the whole notebook.", "",
        f"- machine: {info['cpu']}, {info['cores']} cores, Python {platform.python_version()}",
        "- per submission: the judge's own time (reading the notebook, starting the sandbox, "
        "running the lab's tests); overhead = sandbox − no sandbox", "",
        "| notebook | submissions | wall, sandbox (s) | wall, no sandbox (s) | per submission, "
        "sandbox (s) | per submission, no sandbox (s) | sandbox overhead (s) |",
        "|---|---:|---:|---:|---:|---:|---:|", *rows, ""])
    out = REPO / "benchmarks" / "results" / "grading.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
