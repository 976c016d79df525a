"""The part of a submission that defines its answers: what the sandbox runs, nothing more.

The judge never runs a whole notebook. It reads the code cells as text, splits them into
top-level statements, and keeps the statement that finally binds each exercise's name
(``def quantize(...)``) together with the statements it depends on: for every global name
the kept code uses, the last statement before it that binds that name (an import, a
helper ``def``, ``tf, keras = load()``), and so on transitively. Training runs, plots and
check cells are left out, so grading is fast and a notebook's other cells cannot interfere.
The kept statements run in notebook order; IPython magics (``%``/``!`` lines) are dropped.

Example
-------
>>> cells = ["import numpy as np\\nx = np.ones(3)\\nprint(x)",
...          "def double(v):\\n    return 2 * np.asarray(v)",
...          "check('99.double', double)"]
>>> [s.source for s in answer_program(cells, ["double"])]
['import numpy as np', 'def double(v):\\n    return 2 * np.asarray(v)']
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a code cell: its source and the names it binds and uses."""

    cell: int
    source: str
    binds: frozenset[str] = field(default_factory=frozenset)
    uses: frozenset[str] = field(default_factory=frozenset)


def _without_magics(source: str) -> str:
    """Cell source with IPython magic and shell lines blanked (line numbers kept)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)  # defined inside an if/try at top level
        elif isinstance(sub, (ast.Global,)):
            names.update(sub.names)
    return names


def _global_uses(source: str) -> set[str]:
    """Global names the statement reads, including inside its functions and classes."""
    used: set[str] = set()

    def walk(table: symtable.SymbolTable, top: bool) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (top or sym.is_global()):
                used.add(sym.get_name())
        for child in table.get_children():
            walk(child, False)

    walk(symtable.symtable(source, "<cell>", "exec"), True)
    return used - set(dir(builtins))


def statements(cells: Sequence[str]) -> list[Statement]:
    """Every top-level statement of the cells that parse (a cell that does not is skipped)."""
    found: list[Statement] = []
    for index, cell_source in enumerate(cells):
        source = _without_magics(cell_source)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            text = ast.get_source_segment(source, node, padded=True) or ""
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                    node.decorator_list:
                first = node.decorator_list[0].lineno
                text = "\n".join(source.splitlines()[first - 1:node.end_lineno])
            try:
                uses = _global_uses(text)
            except (SyntaxError, ValueError):
                continue
            uses |= {n.target.id for n in ast.walk(node)  # x += 1 reads x too
                     if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
            found.append(Statement(index, text, frozenset(_bound_names(node)),
                                   frozenset(uses)))
    return found


def _provider(stmts: Sequence[Statement], name: str, user: int) -> int | None:
    """The statement whose binding of ``name`` the statement ``user`` sees when called:
    the last one in the notebook, or the last one before ``user`` if ``user`` rebinds it."""
    end = user if name in stmts[user].binds else len(stmts)
    for index in range(end - 1, -1, -1):
        if name in stmts[index].binds:
            return index
    return None


def answer_program(cells: Sequence[str], names: Sequence[str]) -> list[Statement]:
    """The statements that define ``names`` and those they depend on, in notebook order."""
    stmts = statements(cells)
    keep: set[int] = set()
    end = Statement(-1, "", uses=frozenset(names))
    pending = [(name, len(stmts)) for name in names]
    everything = [*stmts, end]
    while pending:
        name, user = pending.pop()
        index = _provider(everything, name, user)
        if index is not None and index not in keep:
            keep.add(index)
            pending += [(used, index) for used in stmts[index].uses]
    star = {i for i, s in enumerate(stmts)
            if isinstance(ast.parse(s.source).body[0], ast.ImportFrom) and "*" in s.source}
    return [stmts[i] for i in sorted(keep | star)]


def _tokens(function: ast.FunctionDef) -> list[str]:
    """A function's body as a token list with local names renamed in order of appearance
    (so renaming variables or rewording the docstring does not hide a copy)."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    names: dict[str, str] = {a.arg: f"a{i}" for i, a in enumerate(function.args.args)}
    tokens: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            tokens.append(names.setdefault(node.id, f"v{len(names)}"))
            return
        tokens.append(type(node).__name__)
        if isinstance(node, ast.Attribute):
            tokens.append(node.attr)
        elif isinstance(node, ast.Constant):
            tokens.append(repr(node.value))
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.expr_context, ast.arguments)):
                visit(child)

    for statement in body:
        visit(statement)
    return tokens


def _function(source: str, name: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    return found[-1] if found else None


def resemblance(program: Sequence[Statement], name: str, reference: Any) -> float:
    """How alike (0–1) the program's ``def name`` and labkit's ``reference`` are, token by
    token after renaming local names; 0.0 when either cannot be read.

    Example
    -------
    >>> import inspect, labkit.models as m
    >>> pasted = inspect.getsource(m.model_size_bytes).replace("num_params", "n")
    >>> resemblance(answer_program([pasted], ["model_size_bytes"]), "model_size_bytes",
    ...             m.model_size_bytes) > 0.95
    True
    """
    import difflib
    import inspect
    import textwrap

    mine = next((s for s in reversed(program) if name in s.binds), None)
    student = _function(mine.source, name) if mine else None
    try:
        ref = _function(textwrap.dedent(inspect.getsource(reference)), reference.__name__)
    except (OSError, TypeError):
        ref = None
    if student is None or ref is None:
        return 0.0
    a, b = _tokens(student), _tokens(ref)
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0
