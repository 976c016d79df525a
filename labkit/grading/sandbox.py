"""The sandbox a submission's code runs in while it is graded (judge side).

:class:`Sandbox` starts :mod:`labkit.grading.inside` under **bubblewrap** (``bwrap``):

- the filesystem is read-only and holds only the system, the Python installation and a
  copy of labkit in which the references of the lab being graded (and every labkit
  function that computes the same thing) are replaced by stubs that raise; the course
  repository, ``solutions/``, other submissions and the instructor's home are not there;
- the only writable places are a private ``/tmp`` and home, both size-limited tmpfs;
- no network (a new network namespace: not even the host's loopback), its own process,
  IPC and UTS namespaces, killed as a whole when the sandbox is closed;
- as root, the code runs as an unprivileged user id of its own, without capabilities;
- rlimits on address space, processes, open files, file size and CPU time.

The judge talks to it with plain data only (:mod:`labkit.grading.wire`). With
``isolate=False`` (``labkit grade --no-sandbox``) the same process runs without bubblewrap:
the judge still never runs student code itself, but the code can then read and write
whatever the grading user can.

Example
-------
>>> command = bwrap_command(Path("/tmp/labkit-copy"), Path("/tmp/judge"), uid=None)
>>> command[0].endswith("bwrap"), "--unshare-net" in command
(True, True)
"""

from __future__ import annotations

import ast
import json
import os
import resource
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from labkit.grading import wire
from labkit.grading.inside import REFERENCE_BLOCKED

LABKIT_DIR = Path(__file__).resolve().parents[1]  # the installed labkit package
SANDBOX_LIB = "/labkit-sandbox"  # where the sandbox's labkit copy is found first
MEMORY_BYTES = 8 * 2**30  # address space: TensorFlow reserves a lot of it
TMPFS_BYTES = 256 * 2**20
FILE_BYTES = 128 * 2**20
PROCESSES = 512  # threads count too
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`, Fedora: "
                "`sudo dnf install bubblewrap`), or pass --no-sandbox to grade without it "
                "(only for submissions you trust)")


class SandboxError(RuntimeError):
    """The sandbox could not be started, or died, or broke the protocol."""


class RemoteError(Exception):
    """The student's function raised inside the sandbox (``kind`` is the exception's name)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------------------
# A copy of labkit without the references
# --------------------------------------------------------------------------------------

def _stub(function: ast.FunctionDef, lines: list[str], label: str) -> None:
    """Replace the body of ``function`` in ``lines`` (0-based list) by one ``raise``."""
    first, last = function.body[0].lineno - 1, function.end_lineno
    indent = " " * (function.col_offset + 4)
    message = (f"{REFERENCE_BLOCKED} your code calls labkit's `{label}`, which is not available "
               "while this lab is graded; write the computation yourself")
    lines[first:last] = [f"{indent}raise RuntimeError({message!r})\n"]


def strip_references(functions: Sequence[Callable[..., Any]], dest: Path) -> Path:
    """Copy the installed labkit to ``dest/labkit`` with ``functions`` stubbed out.

    The copy has no ``exercises`` package and no byte-code caches, so neither the tests
    nor the original function bodies can be read from inside the sandbox.
    """
    source = LABKIT_DIR
    target = dest / "labkit"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                   "exercises"))
    by_file: dict[Path, list[Callable[..., Any]]] = {}
    for fn in functions:
        module = sys.modules[fn.__module__]
        by_file.setdefault(Path(module.__file__).resolve(), []).append(fn)
    for path, fns in by_file.items():
        copy = target / path.relative_to(source)
        lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
        tree = ast.parse("".join(lines))
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        for fn in sorted(fns, key=lambda f: -defs[f.__name__].lineno):  # bottom up
            _stub(defs[fn.__name__], lines, f"{fn.__module__}.{fn.__name__}")
        copy.write_text("".join(lines), encoding="utf-8")
    (target / "exercises").mkdir()
    (target / "exercises" / "__init__.py").write_text('"""Not available while grading."""\n')
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


# --------------------------------------------------------------------------------------
# bubblewrap
# --------------------------------------------------------------------------------------

def _python_roots() -> list[Path]:
    """Folders the interpreter needs: its prefixes and every site-packages on sys.path."""
    candidates = {Path(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix,
                                    sys.base_exec_prefix)}
    candidates.add(Path(sys.executable).resolve().parent.parent)
    candidates |= {Path(p) for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    existing = sorted(p.resolve() for p in candidates if p.is_dir())
    roots: list[Path] = []
    for path in existing:
        if not any(path == r or r in path.parents for r in roots):
            roots.append(path)
    return [r for r in roots if r != Path("/")]


def bwrap_command(labkit_copy: Path, judge_dir: Path, *, uid: int | None) -> list[str]:
    """The bubblewrap command line that runs :mod:`labkit.grading.inside`.

    ``uid``: switch to this unprivileged user id inside (when the grader runs as root).
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if uid is None:
        cmd += ["--unshare-user"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--ro-bind-try", "/etc", "/etc"]
    binds = [(root, root) for root in _python_roots() if not str(root).startswith("/usr/")]
    # the copy goes where this labkit is (covering it) and at SANDBOX_LIB, which comes
    # first on the sandbox's sys.path: an editable install or PYTHONPATH checkout that is
    # not bound would otherwise leave the sandbox without labkit
    binds.append((labkit_copy, LABKIT_DIR))
    binds.append((labkit_copy, Path(SANDBOX_LIB) / "labkit"))
    system = (Path("/usr"), Path("/etc"))
    parents = sorted({p for _, dest in binds for p in dest.parents if p != Path("/")
                      and not any(p == s or s in p.parents for s in system)},
                     key=lambda p: len(p.parts))
    # the private /tmp and home first: an interpreter or labkit that lives under /tmp (a
    # checkout and venv in /tmp) is bound on top of them instead of being hidden by them
    for folder in ("/tmp", "/home/student"):
        cmd += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", folder]
    for parent in parents:  # bwrap would make them 0700: unreadable for the sandbox's uid
        cmd += ["--perms", "0755", "--dir", str(parent)]
    for source, dest in binds:
        cmd += ["--ro-bind", str(source), str(dest)]
    cmd += ["--ro-bind", str(judge_dir), "/judge"]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for key, value in _environment(home="/home/student", tmp="/tmp").items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", "/home/student"]
    if uid is not None:
        cmd += ["--cap-add", "CAP_SETUID,CAP_SETGID", "--", shutil.which("setpriv") or "setpriv",
                f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all"]
    else:
        cmd += ["--"]
    start = (f"import sys; sys.path.insert(0, {SANDBOX_LIB!r}); import runpy; "
             "runpy.run_module('labkit.grading.inside', run_name='__main__', alter_sys=True)")
    return cmd + [sys.executable, "-I", "-B", "-c", start]


def _environment(*, home: str, tmp: str) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": tmp,
            "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0", "TF_USE_LEGACY_KERAS": "1", "TQDM_DISABLE": "1",
            "LABKIT_NO_WIDGETS": "1", "LABKIT_CACHE": f"{home}/.cache/labkit",
            "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def sandbox_problem() -> str | None:
    """Why the sandbox cannot run here (None when it can): a real sandbox is started once."""
    import tempfile

    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: " + INSTALL_HINT
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing; it drops root inside the sandbox"
    with tempfile.TemporaryDirectory(prefix="labkit-probe-") as folder:
        try:
            with Sandbox([(0, "x = 1")], ["x"], blocked=[], workdir=Path(folder),
                         setup_timeout_s=60) as box:
                box.start()
        except (OSError, SandboxError, TimeoutError) as exc:
            return f"bubblewrap cannot start a sandbox here ({exc or type(exc).__name__})"
    return None


def _sandbox_uid() -> int | None:
    """An unprivileged user id for this sandbox when running as root, else None."""
    return 100_000 + secrets.randbelow(60_000) if os.geteuid() == 0 else None


def _limits(cpu_s: float) -> Callable[[], None]:
    def apply() -> None:
        for limit, value in ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_FSIZE, FILE_BYTES),
                             (resource.RLIMIT_NOFILE, 1024), (resource.RLIMIT_CORE, 0),
                             (resource.RLIMIT_CPU, int(cpu_s) + 1)):
            resource.setrlimit(limit, (value, value))
        if os.geteuid() != 0:  # as root the unprivileged uid inside gets a fresh count
            used = len(os.listdir("/proc")) if os.path.isdir("/proc") else 0
            resource.setrlimit(resource.RLIMIT_NPROC, (used + PROCESSES, used + PROCESSES))
        else:
            resource.setrlimit(resource.RLIMIT_NPROC, (PROCESSES, PROCESSES))
    return apply


# --------------------------------------------------------------------------------------
# The running sandbox
# --------------------------------------------------------------------------------------

class Sandbox:
    """A submission's answers, running in a sandbox, called with plain data.

    ``statements`` are ``(cell, source)`` pairs (see :mod:`labkit.grading.program`),
    ``names`` the exercise names to look up, ``blocked`` the labkit functions stubbed out.
    """

    def __init__(self, statements: Sequence[tuple[int, str]], names: Sequence[str], *,
                 blocked: Sequence[Callable[..., Any]], workdir: Path, isolate: bool = True,
                 setup_timeout_s: float = 300.0, cpu_s: float = 900.0, max_starts: int = 4):
        self.statements = [list(s) for s in statements]
        self.names = list(names)
        self.isolate = isolate
        self.setup_timeout_s = setup_timeout_s
        self.cpu_s = cpu_s
        self.max_starts = max_starts
        self.workdir = workdir
        self.judge_dir = workdir / "judge"
        self.judge_dir.mkdir(mode=0o755, exist_ok=True)
        self.judge_dir.chmod(0o755)
        self.labkit_copy = strip_references(blocked, workdir / "lib")
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready: dict[str, Any] = {}
        self.starts = 0
        self._saved = 0

    # -- process ----------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        """Start the process and run the statements; returns ``{"names": ..., "notes": ...}``."""
        self.close()
        self.starts += 1
        if self.isolate:
            cmd, cwd, env = bwrap_command(self.labkit_copy, self.judge_dir,
                                          uid=_sandbox_uid()), None, None
        else:
            home = self.workdir / "home"
            home.mkdir(exist_ok=True)
            cmd = [sys.executable, "-B", "-m", "labkit.grading.inside"]
            env = {**_environment(home=str(home), tmp=str(home)),
                   "PYTHONPATH": str(self.labkit_copy.parent)}
            cwd = str(home)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=cwd, env=env,
                                     preexec_fn=_limits(self.cpu_s), start_new_session=True)
        self._send({"op": "load", "statements": self.statements, "names": self.names})
        reply = self._receive(self.setup_timeout_s, "defining the answers")
        ready = reply.get("ready") if isinstance(reply, dict) else None
        if not isinstance(ready, dict) or not isinstance(ready.get("names"), dict):
            raise SandboxError("the submission's code broke the grading protocol")
        self.ready = {"names": {n: str(ready["names"].get(n, "missing")) for n in self.names},
                      "notes": [str(n)[:300] for n in ready.get("notes", [])][:20]}
        return self.ready

    def close(self) -> None:
        """Kill the sandbox and everything in it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()
        self.proc = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- protocol ---------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, separators=(",", ":")).encode("utf-8")
        try:
            self.proc.stdin.write(struct.pack(">Q", len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise SandboxError(self._death("before it could be called")) from exc

    def _read(self, size: int, deadline: float) -> bytes:
        fd, chunks, got = self.proc.stdout.fileno(), [], 0
        while got < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _receive(self, timeout_s: float, doing: str) -> Any:
        deadline = time.monotonic() + timeout_s
        try:
            (size,) = struct.unpack(">Q", self._read(8, deadline))
            if size > wire.MAX_BYTES:
                raise SandboxError("the submission sent more data than the grader accepts")
            return json.loads(self._read(size, deadline).decode("utf-8"))
        except TimeoutError:
            self.close()
            raise
        except EOFError:
            message = self._death(doing)
            self.close()
            raise SandboxError(message) from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            self.close()
            raise SandboxError("the submission's code broke the grading protocol") from exc

    def _death(self, doing: str) -> str:
        code = self.proc.wait(timeout=5) if self.proc else None
        how = (f"was killed by signal {-code}" if code is not None and code < 0
               else f"exited with code {code}")
        return f"the submission's process {how} while {doing}"

    def share(self, path: Path) -> str:
        """Copy a file or folder the judge wrote into the judge folder (read-only for the
        sandbox) and return the path the student's code reads it at."""
        self._saved += 1
        target = self.judge_dir / f"shared-{self._saved}-{Path(path).name}"
        if Path(path).is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy2(path, target)
        for item in [target, *target.rglob("*")] if target.is_dir() else [target]:
            item.chmod(0o755 if item.is_dir() else 0o644)
        return f"/judge/{target.name}" if self.isolate else str(target)

    def _save_model(self, model: Any) -> str:
        self._saved += 1
        name = f"arg-{self._saved}.keras"
        model.save(self.judge_dir / name)
        (self.judge_dir / name).chmod(0o644)
        return f"/judge/{name}" if self.isolate else str(self.judge_dir / name)

    def call(self, name: str, args: tuple, kwargs: dict[str, Any], time_limit_s: float) -> Any:
        """Call the student's ``name`` with plain-data arguments; returns plain data.

        Raises :class:`RemoteError` for an exception in the student's code (``kind``
        ``"TimeLimit"`` when it ran too long), :class:`wire.NotPlainData` for a result that
        cannot cross, :class:`SandboxError` when the process died.
        """
        if not self.alive:
            if self.starts >= self.max_starts:
                raise SandboxError(f"the submission's process ended {self.starts} times; "
                                   "its remaining tests were not run")
            self.start()
        payload_args = wire.encode(list(args), save_model=self._save_model).decode()
        payload_kwargs = wire.encode(dict(kwargs), save_model=self._save_model).decode()
        self._send({"op": "call", "name": name, "args": payload_args, "kwargs": payload_kwargs,
                    "time_limit": time_limit_s})
        try:
            reply = self._receive(time_limit_s + 5.0, f"running `{name}`")
        except TimeoutError:
            raise RemoteError("TimeLimit", f"your function did not return within "
                              f"{time_limit_s:g} s") from None
        if not isinstance(reply, dict):
            raise SandboxError("the submission's code broke the grading protocol")
        if isinstance(reply.get("error"), dict):
            err = reply["error"]
            raise RemoteError(str(err.get("type", "Exception"))[:80], str(err.get("message", ""))[:400])
        try:
            value = wire.decode(str(reply["ok"]).encode(), load_model=wire.load_keras_model)
            after = wire.decode(str(reply.get("after", "[]")).encode())
        except (KeyError, wire.WireError) as exc:
            raise wire.NotPlainData(f"a result the grader cannot read ({exc})") from None
        _copy_back(args, after)
        return value


def _copy_back(args: tuple, after: Any) -> None:
    """Apply what the student's code did to array arguments to the judge's own arrays, so a
    test can see that the input was changed in place."""
    import numpy as np

    if not isinstance(after, list) or len(after) != len(args):
        return
    for original, changed in zip(args, after):
        if (isinstance(original, np.ndarray) and isinstance(changed, np.ndarray)
                and changed.shape == original.shape and original.flags.writeable):
            np.copyto(original, changed, casting="unsafe")
