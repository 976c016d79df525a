"""The ``labkit`` command: ``doctor``, ``release``, ``grade``, ``report``, ``execute``,
``gestures``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _doctor(args: argparse.Namespace) -> int:
    from labkit.system import run

    return run(self_test=not args.no_self_test)


def _release(args: argparse.Namespace) -> int:
    from labkit.grading.release import ReleaseError, release

    try:
        report = release(args.solutions, args.notebooks, check=args.check, force=args.force,
                         only=args.only)
    except ReleaseError as exc:
        print(f"labkit release: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if report.changed:
            print("out of date (run `labkit release`):", *report.changed, sep="\n  ")
            return 1
        print(f"up to date: {len(report.unchanged)} notebook files")
        return 0
    for path in report.changed:
        print(f"wrote {path}")
    print(f"{len(report.changed)} written, {len(report.unchanged)} already up to date")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from labkit.grading.grader import grade, summary_table

    report = args.report
    if report is True:
        report = args.output.with_name(args.output.stem + "_report.html")
    try:
        subs = grade(args.paths, output=args.output, feedback=args.feedback, lab=args.lab,
                     workers=args.workers, scheduler=args.scheduler, seed=args.seed,
                     resume=args.resume, timeout_s=args.timeout, id_pattern=args.id_pattern,
                     overwrite=args.overwrite, sandbox=not args.no_sandbox, fmt=args.format,
                     report=report, log=lambda text: print(text, file=sys.stderr))
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
        print(f"labkit grade: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nlabkit grade: interrupted; what finished is in {args.output} and its "
              "journal: run the same command with --resume to grade the rest", file=sys.stderr)
        return 130
    print(summary_table(subs))
    print(f"\ngradebook: {args.output}")
    if report:
        print(f"report: {report}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from labkit.grading.report import ReportError, report_from_gradebook

    try:
        report_from_gradebook(args.gradebook, args.output)
    except (ReportError, OSError) as exc:
        print(f"labkit report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {args.output}")
    return 0


def _execute(args: argparse.Namespace) -> int:
    from labkit.grading.execute import execute_notebook

    for path in args.paths:
        seconds = execute_notebook(path, timeout_s=args.timeout)
        print(f"executed {path} in {seconds:.1f} s")
    return 0


def _gestures(args: argparse.Namespace) -> int:
    from labkit.gestures import main as gestures_main

    folder = ["--folder", str(args.folder)] if args.folder else []
    return gestures_main(folder + (["--check"] if args.check else []))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="Edge AI Lab's helper tool.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="versions, hardware and a LiteRT/TFLite Micro self-test")
    p.add_argument("--no-self-test", action="store_true", help="skip the conversion self-test")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("release", help="build notebooks/ (student copies) from solutions/")
    p.add_argument("only", nargs="*", help="only these notebooks, e.g. 02 or 02_quantization")
    p.add_argument("--check", action="store_true", help="exit 1 if notebooks/ is out of date")
    p.add_argument("--force", action="store_true", help="overwrite hand-edited student copies")
    p.add_argument("--solutions", type=Path, default=Path("solutions"))
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    p.set_defaults(func=_release)

    p = sub.add_parser("grade", help="grade submissions into a gradebook CSV + feedback")
    p.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    p.add_argument("-o", "--output", type=Path, default=Path("gradebook.csv"))
    p.add_argument("--feedback", type=Path, help="folder for feedback (default: <output>_feedback)")
    p.add_argument("--lab", help="grade every submission as this lab, e.g. 02 (default: the lab "
                   "most submissions name)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local Dask cluster (default: one per core)")
    p.add_argument("--scheduler", help="grade on this Dask cluster instead, e.g. "
                   "tcp://HOST:8786 (workers need labkit and bubblewrap, no shared files)")
    p.add_argument("--seed", type=int, default=None, help="run seed; each submission's "
                   "tests use a seed derived from it and the file's hash (default 0)")
    p.add_argument("--resume", action="store_true", help="keep the rows of the journal next "
                   "to the gradebook and grade only the rest")
    p.add_argument("--format", choices=("wide", "long", "lms"), default="wide",
                   help="gradebook layout: wide (a column per exercise), long (a row per "
                   "exercise), lms (Canvas/Moodle import: a column per lab)")
    p.add_argument("--report", nargs="?", const=True, type=Path, default=None,
                   help="also write the HTML report (default: <output>_report.html)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per submission")
    p.add_argument("--id-pattern", help="regex on the file name; group 'id' is the student id")
    p.add_argument("--overwrite", action="store_true", help="replace an existing gradebook")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run students' code without bubblewrap (trusted code only)")
    p.set_defaults(func=_grade)

    p = sub.add_parser("report", help="an HTML report of a gradebook, for instructors")
    p.add_argument("gradebook", type=Path, help="the gradebook CSV (wide or long)")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"))
    p.set_defaults(func=_report)

    p = sub.add_parser("execute", help="run solution notebooks and save their outputs")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    p.set_defaults(func=_execute)

    p = sub.add_parser("gestures", help="rebuild or verify the shipped gestures dataset")
    p.add_argument("--folder", type=Path, default=None)
    p.add_argument("--check", action="store_true", help="compare with the shipped files")
    p.set_defaults(func=_gestures)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
