"""Rebuilding or checking the shipped files: ``python -m labkit.gestures [--check]``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from labkit.gestures.files import _repo_dataset_dir, _to_json_bytes, dataset_sha256, write_dataset
from labkit.gestures.simulate import _as_path, generate_recordings


def _differences(folder: Path) -> list[str]:
    """How ``folder`` differs from a fresh default build; empty when identical."""
    fresh = {f"{r.name}.json": _to_json_bytes(r) for r in generate_recordings()}
    present = {p.name for p in folder.glob("*.json")}
    return ([f"missing: {n}" for n in sorted(fresh.keys() - present)]
            + [f"unexpected: {n}" for n in sorted(present - fresh.keys())]
            + [f"differs: {n}" for n in sorted(present & fresh.keys())
               if (folder / n).read_bytes() != fresh[n]])


def rebuild(folder: str | os.PathLike | None = None, *, check: bool = False) -> bool:
    """Regenerate the default set into ``folder``, or with ``check=True`` compare only.

    ``folder`` defaults to the repository's ``datasets/gestures``. Returns True when the
    files were written, or when every file is byte-for-byte identical to a fresh build;
    False when one is missing, unexpected or different.

    Example
    -------
    >>> rebuild(check=True)
    True
    """
    folder = _repo_dataset_dir() if folder is None else _as_path("folder", folder)
    if check:
        return not _differences(folder)
    write_dataset(folder, overwrite=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m labkit.gestures [--check] [--folder F]``; returns the exit code."""
    parser = argparse.ArgumentParser("python -m labkit.gestures", description=(
        "Regenerate the gestures dataset, or check the files against a fresh build."))
    parser.add_argument("--folder", type=Path, default=_repo_dataset_dir())
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = _differences(args.folder)
        print("\n".join(problems) or f"{args.folder}: identical to a fresh build")
        return 1 if problems else 0
    rebuild(args.folder)
    print(f"wrote {args.folder}, SHA-256 {dataset_sha256(args.folder)}")
    return 0
