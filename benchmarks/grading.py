"""Time `labkit grade` on a class of 20 submissions of notebook 00 (run: python benchmarks/grading.py).

Half the class hands in the worked solution, half the untouched student copy, so the
gradebook must show 100 % and 0 % side by side. Writes benchmarks/results/grading.md.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

from labkit.grading.grader import grade, summary_table
from labkit.system import machine_info

REPO = Path(__file__).resolve().parents[1]
NAME = "00_welcome_and_setup.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        class_dir = Path(tmp) / "submissions"
        for i in range(args.students):
            source = REPO / ("solutions" if i % 2 == 0 else "notebooks") / NAME
            (class_dir / f"student{i:02d}").mkdir(parents=True)
            shutil.copy(source, class_dir / f"student{i:02d}" / NAME)
        start = time.perf_counter()
        subs = grade([class_dir], output=Path(tmp) / "gradebook.csv", workers=args.workers)
        seconds = time.perf_counter() - start
    full = sum(s.score == s.max_score > 0 for s in subs)
    zero = sum(s.score == 0 and s.status == "ok" for s in subs)
    info = machine_info()
    text = (f"# Grading benchmark\n\n"
            f"`labkit grade` on {args.students} copies of `{NAME}` "
            f"(half solutions, half untouched student copies), `--workers {args.workers}`.\n\n"
            f"- machine: {info['cpu']}, {info['cores']} cores, Python {platform.python_version()}\n"
            f"- wall time: **{seconds:.1f} s** ({seconds / args.students:.1f} s per submission)\n"
            f"- scored 100 %: {full}, scored 0 %: {zero}, other: {args.students - full - zero}\n\n"
            f"```\n{summary_table(subs)}\n```\n")
    out = REPO / "benchmarks" / "results" / "grading.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
