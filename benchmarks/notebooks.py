"""Wall time of every solution notebook with a cold and with a warm labkit cache.

Run: ``python benchmarks/notebooks.py [NN ...]`` (default: every notebook in solutions/).
Rewrites ``benchmarks/results/notebooks.md`` (rows of notebooks not run this time are kept).

Cold: a fresh, empty ``LABKIT_CACHE`` (no generated datasets, no zoo models), as a student
who opens that notebook first sees it. Warm: the same notebook again on the cache the cold
run left. Each run is plain nbclient in a fresh temporary folder, like the headless test.
The machine's load average is recorded before each run: on a shared machine the numbers
are only as good as it was idle.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "notebooks.md"
HEADER = ("| notebook | cold cache (s) | warm cache (s) | load before cold / warm |\n"
          "|---|---:|---:|---|\n")


def run_once(path: Path, cache: Path) -> float:
    """Execute ``path`` with plain nbclient, ``LABKIT_CACHE=cache``; return its wall time."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["LABKIT_CACHE"] = str(cache)
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": work}}).execute()
        seconds = time.perf_counter() - start
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        raise RuntimeError(f"{path.name} failed: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    return seconds


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def measure(path: Path) -> str:
    """One table row: ``path`` cold, then warm."""
    with tempfile.TemporaryDirectory() as cache:
        load_cold = _load()
        cold = run_once(path, Path(cache))
        load_warm = _load()
        warm = run_once(path, Path(cache))
    return f"| {path.stem} | {cold:.0f} | {warm:.0f} | {load_cold} / {load_warm} |"


def _kept_rows(names: set[str]) -> dict[str, str]:
    if not RESULTS.exists():
        return {}
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\d\d_\w+) \|.*$",
                                                          RESULTS.read_text(), flags=re.M)}
    return {name: line for name, line in lines.items() if name not in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="two-digit lab numbers (default: all)")
    args = parser.parse_args(argv)
    paths = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if args.labs:
        paths = [p for p in paths if p.name[:2] in args.labs]
    rows = _kept_rows({p.stem for p in paths})
    for path in paths:
        rows[path.stem] = measure(path)
        print(rows[path.stem], flush=True)
    from labkit.system import machine_info

    info = machine_info()
    RESULTS.write_text(
        "# Notebook wall times: cold and warm labkit cache\n\n"
        f"Made by `python benchmarks/notebooks.py` on {info['cpu']} ({info['cores']} cores), "
        f"{time.strftime('%Y-%m-%d')}. Plain nbclient; cold = an empty `LABKIT_CACHE`.\n\n"
        + HEADER + "\n".join(rows[k] for k in sorted(rows)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
