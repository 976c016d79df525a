"""Files: safe writing (release, grader, notebook runner) and the labkit cache folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    The text goes to a temporary file in the same folder, which then replaces ``path``. The
    file keeps the permissions of the file it replaces (new files get the usual umask ones).

    Example
    -------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> write_text_atomic(target, "a,b\\n")
    >>> target.read_text()
    'a,b\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    """Where generated data is cached: ``$LABKIT_CACHE`` or ``~/.cache/labkit``."""
    root = os.environ.get("LABKIT_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "labkit"
